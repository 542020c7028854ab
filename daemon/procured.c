/*
 * procured: the procurement transparency log daemon.
 *
 * Start-up: configuration (file, then flags), the data directory (log key,
 * store, first checkpoint), listeners (configured or passed by systemd),
 * then the event loop.  SIGTERM/SIGINT finish the batch in flight, answer
 * it and exit 0; SIGHUP rereads the configuration's rate limits and
 * map-size-max.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "daemon/config.h"
#include "daemon/flags.h"
#include "daemon/hmap.h"
#include "daemon/http.h"
#include "daemon/ingest.h"
#include "daemon/procured.h"
#include "daemon/sdnotify.h"
#include "proto/buf.h"
#include "proto/err.h"
#include "proto/errmsg.h"
#include "proto/entry.h"
#include "proto/key.h"
#include "proto/log.h"
#include "proto/note.h"
#include "store/store.h"

static const char *conf_path;
static const char *backup_dir;

static int
free_key(void *arg, const void *k, size_t klen, void *ptr)
{
	(void)arg;
	(void)k;
	(void)klen;
	pr_key_free(ptr);
	return 0;
}

static void
keycache_free(struct hmap *m)
{
	if (m == NULL)
		return;
	hmap_walk(m, free_key, NULL);
	hmap_free(m);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
	    "usage: procured [-d] [-c FILE] [--data-dir DIR] "
	    "[--listen HOST:PORT]...\n"
	    "                [--origin NAME] [--admin-key VKEY]... "
	    "[--check-config] [--print-config]\n"
	    "       procured [-c FILE] [--data-dir DIR] --backup DIR\n");
	exit(2);
}

static int
load_config(struct config *c, int argc, char **argv, int *check, int *print)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"data-dir", required_argument, NULL, 'D'},
	    {"listen", required_argument, NULL, 'l'},
	    {"origin", required_argument, NULL, 'o'},
	    {"admin-key", required_argument, NULL, 'a'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"print-config", no_argument, NULL, 'P'},
	    {"backup", required_argument, NULL, 'B'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* Flags override the file: collect them, apply them after it. */
	const char *names[64], *values[64];
	size_t nflags = 0, i;
	int ch, verbose = 0, cleared_listen = 0, cleared_admin = 0;
	char err[512];

	while ((ch = getopt_long(argc, argv, "c:dh", longopts, NULL)) != -1) {
		const char *name = NULL;
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'D':
			name = "data-dir";
			break;
		case 'l':
			name = "listen";
			break;
		case 'o':
			name = "origin";
			break;
		case 'a':
			name = "admin-key";
			break;
		case 'C':
			*check = 1;
			break;
		case 'P':
			*print = 1;
			break;
		case 'B':
			backup_dir = optarg;
			break;
		case 'd':
			verbose++;
			break;
		default:
			usage();
		}
		if (name != NULL) {
			if (nflags == 64)
				usage();
			names[nflags] = name;
			values[nflags++] = optarg;
		}
	}
	if (optind != argc)
		usage();
	config_defaults(c);
	if (conf_path != NULL && config_load(c, conf_path, err, sizeof(err))) {
		fprintf(stderr, "procured: %s\n", err);
		return PR_ECONFIG;
	}
	for (i = 0; i < nflags; i++) {
		/* A list given on the command line replaces the file's. */
		if (strcmp(names[i], "listen") == 0 && !cleared_listen) {
			while (c->nlisten > 0)
				free(c->listen[--c->nlisten]);
			cleared_listen = 1;
		}
		if (strcmp(names[i], "admin-key") == 0 && !cleared_admin) {
			while (c->nadmin > 0)
				free(c->admin_keys[--c->nadmin]);
			cleared_admin = 1;
		}
		if (config_set(c, names[i], values[i], err, sizeof(err))) {
			fprintf(stderr, "procured: --%s: %s\n", names[i], err);
			return PR_ECONFIG;
		}
	}
	if (c->nlisten == 0 &&
	    config_set(c, "listen", "127.0.0.1:8480", err, sizeof(err)))
		return PR_ENOMEM;
	if (verbose > 0)
		c->verbose = (uint64_t)verbose;
	if (*print)
		return 0;
	if (config_check(c, err, sizeof(err)) != 0) {
		fprintf(stderr, "procured: %s%s%s\n",
		    conf_path ? conf_path : "", conf_path ? ": " : "", err);
		return PR_ECONFIG;
	}
	return 0;
}

static int
parse_admin_keys(struct procured *d)
{
	size_t i;
	int rc;

	for (i = 0; i < d->conf.nadmin; i++) {
		rc = pr_vkey_parse(d->conf.admin_keys[i],
		    strlen(d->conf.admin_keys[i]), &d->admins[i]);
		if (rc != 0) {
			log_warnx("admin-key '%s': %s", d->conf.admin_keys[i],
			    pr_errmsg(rc));
			return PR_ECONFIG;
		}
		d->admin_keys[i] = d->admins[i].key;
		d->nadmins++;
	}
	return 0;
}

static char *
log_key_path(const struct config *c)
{
	struct pr_buf b = PR_BUF_INIT;

	if (c->log_key != NULL)
		return strdup(c->log_key);
	if (pr_buf_printf(&b, "%s/log.key", c->data_dir) != 0)
		return NULL;
	return (char *)b.data;
}

/* Sign a checkpoint of the current tree: the store's signing callback. */
static int
sign_checkpoint(
    void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note)
{
	struct procured *d = ctx;
	struct pr_checkpoint cp;

	memset(&cp, 0, sizeof(cp));
	cp.origin = d->conf.origin;
	cp.size = size;
	memcpy(cp.root, root, PR_HASH_LEN);
	return pr_checkpoint_sign(&cp, d->conf.origin, d->logkey, note);
}

int
procured_sign_checkpoint(
    void *ctx, uint64_t size, const pr_hash root, struct pr_buf *note)
{
	return sign_checkpoint(ctx, size, root, note);
}

/*
 * The data directory: created on first start with a new log key; on later
 * starts its latest checkpoint must name our origin and verify with our
 * key, so a directory is never served under another log's name.
 */
static int
open_data_dir(struct procured *d)
{
	struct st_config sc;
	struct pr_buf note = PR_BUF_INIT;
	struct pr_checkpoint cp;
	struct pr_vkey self;
	struct stat st;
	char *keypath = NULL;
	int rc, fresh = 0;

	if (mkdir(d->conf.data_dir, 0700) == -1 && errno != EEXIST) {
		log_warn("data-dir %s", d->conf.data_dir);
		return PR_ESYS;
	}
	if ((keypath = log_key_path(&d->conf)) == NULL)
		return PR_ENOMEM;
	if (stat(keypath, &st) == -1 && errno == ENOENT) {
		if ((rc = pr_key_generate(&d->logkey)) != 0 ||
		    (rc = pr_key_save_private(d->logkey, keypath)) != 0) {
			log_warnx("log key %s: %s", keypath, pr_errmsg(rc));
			goto out;
		}
		log_info("generated a new log key in %s", keypath);
		fresh = 1;
	} else if ((rc = pr_key_load_private(keypath, &d->logkey)) != 0) {
		log_warnx("log key %s: %s", keypath, pr_errmsg(rc));
		goto out;
	}
	if ((rc = pr_key_vkey_format(d->logkey, d->conf.origin, &note)) != 0)
		goto out;
	d->vkey = strdup((char *)note.data);
	pr_buf_reset(&note);

	memset(&sc, 0, sizeof(sc));
	sc.dir = d->conf.data_dir;
	sc.map_size_max = d->conf.map_size_max_mb << 20;
	sc.index_buffer_max = d->conf.index_buffer_mb << 20;
	sc.errmsg = &note;
	if ((rc = st_open(&sc, &d->store)) != 0) {
		log_warnx("store in %s: %s%s%s", d->conf.data_dir,
		    pr_strerror(rc), note.len ? ": " : "",
		    note.len ? (char *)note.data : "");
		goto out;
	}
	pr_buf_reset(&note);
	rc = st_checkpoint(d->store, &note);
	if (rc == PR_ENOTFOUND) {
		/* A new log: sign the checkpoint of the empty tree. */
		uint64_t size;
		pr_hash root;

		(void)fresh;
		rc = st_append_batch(
		    d->store, NULL, 0, sign_checkpoint, d, NULL, &size, root);
		if (rc != 0) {
			log_warnx("first checkpoint: %s", pr_strerror(rc));
			goto out;
		}
		log_info("new log %s", d->conf.origin);
		rc = st_checkpoint(d->store, &note);
	}
	if (rc != 0) {
		log_warnx("reading the latest checkpoint: %s", pr_strerror(rc));
		goto out;
	}
	if ((rc = pr_vkey_from_key(d->logkey, d->conf.origin, &self)) != 0)
		goto out;
	memset(&cp, 0, sizeof(cp));
	rc = pr_checkpoint_open(
	    (const char *)note.data, note.len, d->conf.origin, &self, 1, &cp);
	pr_vkey_clear(&self);
	if (rc != 0) {
		log_warnx("data-dir %s holds a log that is not %s signed by %s "
		          "(%s): check origin and log-key",
		    d->conf.data_dir, d->conf.origin, keypath, pr_errmsg(rc));
		rc = PR_ECONFIG;
		goto out;
	}
	log_info("log %s: %llu entries", d->conf.origin,
	    (unsigned long long)cp.size);
	/* Log times continue from the last entry's, whatever the clock. */
	if (cp.size > 0) {
		struct pr_buf last = PR_BUF_INIT;
		struct pr_entry ent;

		if (st_entry(d->store, cp.size - 1, &last) == 0 &&
		    pr_entry_parse(last.data, last.len, &ent) == 0)
			d->last_log_time = ent.log_time;
		pr_buf_free(&last);
	}
	pr_checkpoint_clear(&cp);
out:
	pr_buf_free(&note);
	free(keypath);
	return rc;
}

/* SIGHUP: reread the file's rate limits and map-size-max (other options
 * need a restart). */
static void
reload(struct procured *d)
{
	struct config c;
	char err[512];

	if (conf_path == NULL) {
		log_info("SIGHUP: no configuration file to reread");
		return;
	}
	config_defaults(&c);
	if (config_load(&c, conf_path, err, sizeof(err)) != 0) {
		log_warnx("SIGHUP: %s; keeping the running configuration", err);
		config_free(&c);
		return;
	}
	d->conf.rate_per_addr = c.rate_per_addr;
	d->conf.rate_per_key = c.rate_per_key;
	ingest_set_rates(d->ingest);
	log_info("SIGHUP: rate limits %llu/s per address, %llu/s per key",
	    (unsigned long long)c.rate_per_addr,
	    (unsigned long long)c.rate_per_key);
	/* Raising the map limit lets writes resume after 507 (map full). */
	if (c.map_size_max_mb != d->conf.map_size_max_mb &&
	    st_set_map_size_max(d->store, c.map_size_max_mb << 20) == 0) {
		d->conf.map_size_max_mb = c.map_size_max_mb;
		log_info("SIGHUP: map-size-max %llu MiB",
		    (unsigned long long)c.map_size_max_mb);
	}
	config_free(&c);
}

/*
 * --backup DIR: a compacted copy of the running log's database, taken
 * from one read snapshot by this separate process while procured runs.
 */
static int
backup(const struct config *c, const char *dir)
{
	struct st_config sc;
	struct st_store *st = NULL;
	struct pr_buf msg = PR_BUF_INIT;
	uint64_t size;
	pr_hash root;
	int rc;

	memset(&sc, 0, sizeof(sc));
	sc.dir = c->data_dir;
	sc.readonly = 1;
	sc.errmsg = &msg;
	if ((rc = st_open(&sc, &st)) != 0) {
		log_warnx("store in %s: %s%s%s", c->data_dir, pr_strerror(rc),
		    msg.len ? ": " : "", msg.len ? (char *)msg.data : "");
		pr_buf_free(&msg);
		return 1;
	}
	pr_buf_free(&msg);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("backup directory %s", dir);
		st_close(st);
		return 1;
	}
	if ((rc = st_backup(st, dir)) != 0 ||
	    (rc = st_tree(st, &size, root)) != 0) {
		log_warnx("backup to %s: %s", dir, pr_strerror(rc));
		st_close(st);
		return 1;
	}
	log_info("backup of %s written to %s/data.mdb (at least %llu entries)",
	    c->data_dir, dir, (unsigned long long)size);
	st_close(st);
	return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct procured *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("shutting down: finishing the batch in flight");
	sd_notify_send("STOPPING=1");
	http_stop_listening(d->http);
	ingest_shutdown(d->ingest, d->base);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct procured *d = arg;

	(void)fd;
	(void)what;
	if (ingest_healthy(d->ingest))
		sd_notify_send("WATCHDOG=1");
}

static int
setup_listeners(struct procured *d)
{
	int n = sd_listen_fds(), i, rc;
	size_t j;

	if (n > 0) {
		for (i = 0; i < n; i++)
			if ((rc = http_listen_fd(d->http, 3 + i)) != 0)
				return rc;
		log_info("serving %d sockets from systemd", n);
		return 0;
	}
	for (j = 0; j < d->conf.nlisten; j++) {
		if (http_listen(d->http, d->conf.listen[j]) != 0) {
			log_warn("listen on %s", d->conf.listen[j]);
			return PR_ESYS;
		}
		log_info("listening on %s%s", d->conf.listen[j],
		    d->conf.tls_cert ? " (TLS)" : "");
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct procured d;
	struct timeval tv;
	uint64_t wd;
	int check = 0, print = 0, rc;
	size_t i;

	memset(&d, 0, sizeof(d));
	log_init("procured", 0);
	if (load_config(&d.conf, argc, argv, &check, &print) != 0) {
		config_free(&d.conf);
		return 1;
	}
	if (print) {
		config_print(&d.conf, stdout);
		config_free(&d.conf);
		return 0;
	}
	log_setverbose((int)d.conf.verbose);
	if (parse_admin_keys(&d) != 0) {
		rc = 1;
		goto done;
	}
	if (check) {
		printf("procured: configuration OK\n");
		rc = 0;
		goto done;
	}
	if (backup_dir != NULL) {
		rc = backup(&d.conf, backup_dir);
		goto done;
	}
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (evthread_use_pthreads() != 0)
		fatalx("libevent: no thread support");
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((d.keycache = hmap_new()) == NULL)
		fatalx("out of memory");
	if (open_data_dir(&d) != 0 || (d.flags = flags_new(&d)) == NULL) {
		rc = 1;
		goto fail;
	}
	d.http = http_server_new(
	    d.base, &d.conf, procured_routes, procured_nroutes, &d);
	if (d.http == NULL)
		fatalx("cannot set up the HTTP server");
	if (d.conf.tls_cert != NULL &&
	    http_tls(d.http, d.conf.tls_cert, d.conf.tls_key,
	        d.conf.tls_client_ca) != 0) {
		rc = 1;
		goto fail;
	}
	if ((d.ingest = ingest_new(&d)) == NULL)
		fatalx("cannot start the sequencer");
	if (setup_listeners(&d) != 0) {
		rc = 1;
		goto fail;
	}
	d.ev_term = evsignal_new(d.base, SIGTERM, on_signal, &d);
	d.ev_int = evsignal_new(d.base, SIGINT, on_signal, &d);
	d.ev_hup = evsignal_new(d.base, SIGHUP, on_signal, &d);
	evsignal_add(d.ev_term, NULL);
	evsignal_add(d.ev_int, NULL);
	evsignal_add(d.ev_hup, NULL);
	if ((wd = sd_watchdog_usec()) > 0) {
		d.ev_watchdog =
		    event_new(d.base, -1, EV_PERSIST, on_watchdog, &d);
		tv.tv_sec = (time_t)(wd / 2 / 1000000);
		tv.tv_usec = (suseconds_t)(wd / 2 % 1000000);
		event_add(d.ev_watchdog, &tv);
	}
	sd_notify_send("READY=1");
	log_info("ready: origin %s, vkey %s", d.conf.origin, d.vkey);
	event_base_dispatch(d.base);
	rc = ingest_exit_status(d.ingest);
	log_info("stopped");
fail:
	if (d.ev_watchdog)
		event_free(d.ev_watchdog);
	if (d.ev_term)
		event_free(d.ev_term);
	if (d.ev_int)
		event_free(d.ev_int);
	if (d.ev_hup)
		event_free(d.ev_hup);
	ingest_free(d.ingest);
	http_server_free(d.http);
	flags_free(d.flags);
	st_close(d.store);
	keycache_free(d.keycache);
	pr_key_free(d.logkey);
	free(d.vkey);
	if (d.base)
		event_base_free(d.base);
	for (i = 0; i < d.nadmins; i++)
		pr_vkey_clear(&d.admins[i]);
	config_free(&d.conf);
	return rc;
done:
	for (i = 0; i < d.nadmins; i++)
		pr_vkey_clear(&d.admins[i]);
	config_free(&d.conf);
	return rc;
}
