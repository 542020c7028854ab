// notecheck checks procured's signed notes with an independent
// implementation, golang.org/x/mod/sumdb/note.
//
//	notecheck verify VKEY FILE         verify a note, print its text
//	notecheck vkey NAME PUBHEX         print the verifier key of (NAME, key)
//	notecheck sign NAME TEXTFILE OUT   new key; sign TEXTFILE into OUT;
//	                                   print the verifier key
//
// Exit status 0 on success, 1 on failure.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "notecheck: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: notecheck verify|vkey|sign ...")
	}
	switch os.Args[1] {
	case "verify":
		if len(os.Args) != 4 {
			fail("usage: notecheck verify VKEY FILE")
		}
		v, err := note.NewVerifier(os.Args[2])
		if err != nil {
			fail("verifier key: %v", err)
		}
		msg, err := os.ReadFile(os.Args[3])
		if err != nil {
			fail("%v", err)
		}
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil {
			fail("open: %v", err)
		}
		if len(n.Sigs) != 1 || n.Sigs[0].Name != v.Name() {
			fail("expected one verified signature by %s", v.Name())
		}
		fmt.Print(n.Text)
	case "vkey":
		if len(os.Args) != 4 {
			fail("usage: notecheck vkey NAME PUBHEX")
		}
		pub, err := hex.DecodeString(os.Args[3])
		if err != nil || len(pub) != ed25519.PublicKeySize {
			fail("bad public key")
		}
		vkey, err := note.NewEd25519VerifierKey(os.Args[2],
			ed25519.PublicKey(pub))
		if err != nil {
			fail("%v", err)
		}
		fmt.Println(vkey)
	case "sign":
		if len(os.Args) != 5 {
			fail("usage: notecheck sign NAME TEXTFILE OUT")
		}
		skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
		if err != nil {
			fail("%v", err)
		}
		s, err := note.NewSigner(skey)
		if err != nil {
			fail("%v", err)
		}
		text, err := os.ReadFile(os.Args[3])
		if err != nil {
			fail("%v", err)
		}
		msg, err := note.Sign(&note.Note{Text: string(text)}, s)
		if err != nil {
			fail("sign: %v", err)
		}
		if err := os.WriteFile(os.Args[4], msg, 0o644); err != nil {
			fail("%v", err)
		}
		fmt.Println(vkey)
	default:
		fail("unknown command %q", os.Args[1])
	}
}
