// Command tlogcheck checks a C2SP tile tree written by tests/tools/tlog_dump
// against golang.org/x/mod/sumdb/tlog, an implementation written
// independently of procured.
//
// usage: tlogcheck -dir DIR -n SIZE -root HEX
//
// It reads the entry bundles, rebuilds the whole hash store with
// tlog.StoredHashes, and requires that:
//   - DIR/tile holds exactly the full and partial tiles of a tree of SIZE,
//     at the paths tlog's own Tile.Path gives (without the height element,
//     with "entries" for "data");
//   - every hash tile equals tlog.ReadTileData over tlog's store, byte for
//     byte, and every bundle entry hashes to its level-0 tile hash;
//   - tlog.TreeHash equals the root, over tlog's store, over a plain reader
//     of the tiles, and over tlog.TileHashReader (which authenticates tiles);
//   - every root, inclusion and consistency proof in DIR/proofs.txt passes
//     tlog.CheckRecord / tlog.CheckTree, equals tlog.ProveRecord /
//     tlog.ProveTree, and fails once a bit of it is flipped.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

var (
	dir   = flag.String("dir", "", "directory written by tlog_dump")
	size  = flag.Int64("n", 0, "tree size")
	root  = flag.String("root", "", "root hash in hex")
	nfail = 0
)

func failf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	nfail++
	if nfail > 20 {
		os.Exit(1)
	}
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// c2spPath turns tlog's "tile/8/L/N" and "tile/8/data/N" into the C2SP
// "tile/L/N" and "tile/entries/N".
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	pre := fmt.Sprintf("tile/%d/", height)
	if !strings.HasPrefix(p, pre) {
		fatalf("unexpected tlog path %s", p)
	}
	p = "tile/" + strings.TrimPrefix(p, pre)
	if strings.HasPrefix(p, "tile/data/") {
		p = "tile/entries/" + strings.TrimPrefix(p, "tile/data/")
	}
	// Check the mapping against tlog's own parser.
	back, err := tlog.ParseTilePath(t.Path())
	if err != nil || back != t {
		fatalf("tlog.ParseTilePath(%s) = %v, %v", t.Path(), back, err)
	}
	return p
}

// tilesOf lists the tiles of a tree of n leaves, as tlog's coordinates.
func tilesOf(n int64) []tlog.Tile {
	var out []tlog.Tile
	for l := 0; n>>(height*uint(l)) > 0; l++ {
		c := n >> (height * uint(l))
		for k := int64(0); k < c>>height; k++ {
			out = append(out, tlog.Tile{H: height, L: l, N: k, W: 1 << height})
		}
		if w := int(c & (1<<height - 1)); w > 0 {
			out = append(out, tlog.Tile{H: height, L: l, N: c >> height, W: w})
		}
		if l == 0 {
			for _, t := range out {
				d := t
				d.L = -1
				out = append(out, d)
			}
		}
	}
	return out
}

func readFile(rel string) []byte {
	b, err := os.ReadFile(filepath.Join(*dir, rel))
	if err != nil {
		fatalf("%v", err)
	}
	return b
}

// decodeBundle splits a bundle strictly: every length prefix and entry
// must be complete.
func decodeBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("truncated length prefix")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b)-2 < n {
			return nil, fmt.Errorf("truncated entry")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, nil
}

type memStore []tlog.Hash

func (s *memStore) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(*s)) {
			return nil, fmt.Errorf("stored hash %d not present", x)
		}
		out[i] = (*s)[x]
	}
	return out, nil
}

// widest returns the tile of the tree of size n holding t's hashes.
func widest(t tlog.Tile, n int64) tlog.Tile {
	l := t.L
	if l < 0 {
		l = 0 // entry bundles are laid out as level 0
	}
	c := n >> (height * uint(l))
	w := c - t.N<<height
	if w > 1<<height {
		w = 1 << height
	}
	t.W = int(w)
	return t
}

// fileReader serves tlog.TileReader from the files in dir.
type fileReader struct{}

func (fileReader) Height() int { return height }

func (fileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := os.ReadFile(filepath.Join(*dir, c2spPath(t)))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (fileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// plainTileReader reads hashes straight from the tile files, without
// tlog's authentication, so that TreeHash over it tests the tiles alone.
func plainTileReader(n int64) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			t := widest(tlog.TileForIndex(height, x), n)
			data := readFile(c2spPath(t))
			h, err := tlog.HashFromTile(t, data, x)
			if err != nil {
				return nil, err
			}
			out[i] = h
		}
		return out, nil
	})
}

func parseHashes(f []string) []tlog.Hash {
	out := make([]tlog.Hash, len(f))
	for i, s := range f {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			fatalf("bad hash %q", s)
		}
		copy(out[i][:], b)
	}
	return out
}

func atoi(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fatalf("bad number %q", s)
	}
	return v
}

func equalHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func main() {
	flag.Parse()
	n := *size
	if *dir == "" || n <= 0 {
		fatalf("usage: tlogcheck -dir DIR -n SIZE -root HEX")
	}
	want := parseHashes([]string{*root})[0]

	// The file set must be exactly the tiles of the tree.
	expect := map[string]tlog.Tile{}
	for _, t := range tilesOf(n) {
		expect[c2spPath(t)] = t
	}
	var found []string
	err := filepath.WalkDir(filepath.Join(*dir, "tile"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(*dir, p)
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		fatalf("%v", err)
	}
	sort.Strings(found)
	for _, p := range found {
		if _, ok := expect[p]; !ok {
			failf("unexpected file %s", p)
		}
	}
	if len(found) != len(expect) {
		failf("%d files, want %d", len(found), len(expect))
	}

	// Entries, in order, and tlog's own hash store built from them.
	var store memStore
	var entries [][]byte
	for k := int64(0); k<<height < n; k++ {
		t := widest(tlog.Tile{H: height, L: -1, N: k}, n)
		es, err := decodeBundle(readFile(c2spPath(t)))
		if err != nil {
			fatalf("bundle %s: %v", c2spPath(t), err)
		}
		if len(es) != t.W {
			failf("bundle %s: %d entries, want %d", c2spPath(t), len(es), t.W)
		}
		entries = append(entries, es...)
	}
	if int64(len(entries)) != n {
		fatalf("%d entries, want %d", len(entries), n)
	}
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, &store)
		if err != nil {
			fatalf("StoredHashes(%d): %v", i, err)
		}
		store = append(store, hs...)
	}

	// Every hash tile, byte for byte.
	ntiles := 0
	for p, t := range expect {
		if t.L < 0 {
			continue
		}
		wantData, err := tlog.ReadTileData(t, &store)
		if err != nil {
			fatalf("ReadTileData(%s): %v", p, err)
		}
		if !bytes.Equal(readFile(p), wantData) {
			failf("tile %s differs from tlog's", p)
		}
		ntiles++
	}

	// The root, three ways.
	th, err := tlog.TreeHash(n, &store)
	if err != nil || th != want {
		failf("TreeHash over tlog's store = %v (%v), want %v", th, err, want)
	}
	th, err = tlog.TreeHash(n, plainTileReader(n))
	if err != nil || th != want {
		failf("TreeHash over the tiles = %v (%v), want %v", th, err, want)
	}
	tr := tlog.TileHashReader(tlog.Tree{N: n, Hash: want}, fileReader{})
	th, err = tlog.TreeHash(n, tr)
	if err != nil || th != want {
		failf("TreeHash over TileHashReader = %v (%v), want %v", th, err, want)
	}

	// Proofs.
	roots := map[int64]tlog.Hash{}
	lines := strings.Split(string(readFile("proofs.txt")), "\n")
	for _, line := range lines {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "root" {
			roots[atoi(f[1])] = parseHashes(f[2:])[0]
		}
	}
	nincl, ncons := 0, 0
	for ln, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		where := fmt.Sprintf("proofs.txt:%d", ln+1)
		switch f[0] {
		case "root":
			t := atoi(f[1])
			h := parseHashes(f[2:])[0]
			th, err := tlog.TreeHash(t, &store)
			if err != nil || th != h {
				failf("%s: root of %d = %v, tlog says %v", where, t, h, th)
			}
		case "incl":
			i, t := atoi(f[1]), atoi(f[2])
			p := tlog.RecordProof(parseHashes(f[3:]))
			leaf := tlog.RecordHash(entries[i])
			if _, ok := roots[t]; !ok {
				fatalf("%s: no root line for size %d", where, t)
			}
			if err := tlog.CheckRecord(p, t, roots[t], i, leaf); err != nil {
				failf("%s: CheckRecord(%d in %d): %v", where, i, t, err)
			}
			gp, err := tlog.ProveRecord(t, i, &store)
			if err != nil || !equalHashes(gp, p) {
				failf("%s: ProveRecord(%d in %d) differs", where, i, t)
			}
			if t == n {
				gp, err = tlog.ProveRecord(t, i, tr)
				if err != nil || !equalHashes(gp, p) {
					failf("%s: ProveRecord over tiles differs", where)
				}
			}
			if len(p) > 0 {
				p[len(p)/2][ln%32] ^= 1 << uint(ln%8)
				if tlog.CheckRecord(p, t, roots[t], i, leaf) == nil {
					failf("%s: CheckRecord accepts a flipped bit", where)
				}
			}
			nincl++
		case "cons":
			m, t := atoi(f[1]), atoi(f[2])
			p := tlog.TreeProof(parseHashes(f[3:]))
			if _, ok := roots[m]; !ok {
				fatalf("%s: no root line for size %d", where, m)
			}
			if err := tlog.CheckTree(p, t, roots[t], m, roots[m]); err != nil {
				failf("%s: CheckTree(%d -> %d): %v", where, m, t, err)
			}
			gp, err := tlog.ProveTree(t, m, &store)
			if err != nil || !equalHashes(gp, p) {
				failf("%s: ProveTree(%d -> %d) differs", where, m, t)
			}
			if len(p) > 0 {
				p[0][ln%32] ^= 1 << uint(ln%8)
				if tlog.CheckTree(p, t, roots[t], m, roots[m]) == nil {
					failf("%s: CheckTree accepts a flipped bit", where)
				}
			}
			ncons++
		default:
			fatalf("%s: unknown line %q", where, f[0])
		}
	}
	if nincl == 0 || ncons == 0 || roots[n] != want {
		failf("proofs.txt lacks proofs or the root of %d", n)
	}
	if nfail > 0 {
		os.Exit(1)
	}
	fmt.Printf("size %d: %d files, %d hash tiles, %d inclusion and %d consistency proofs match tlog\n",
		n, len(found), ntiles, nincl, ncons)
}
