/* The configuration file (libconfig syntax) as an immutable snapshot. */
#ifndef RH_CONFIG_H
#define RH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define RH_DEFAULT_CONFIG SYSCONFDIR "/ringhttpd/ringhttpd.conf"

struct rh_type_override {
	char *ext;
	char *type;
};

struct rh_sites_conf; /* site_conf.h */

/* tls_protocols */
#define RH_TLS_V1_2 1u
#define RH_TLS_V1_3 2u

/* Keys whose value a later check may find wrong: where each came from. */
enum rh_config_key {
	RH_KEY_DOCUMENT_ROOT,
	RH_KEY_USER,
	RH_KEY_LISTEN,
	RH_KEY_ACCESS_LOG,
	RH_KEY_ENABLE_SQ_POLL,
	RH_KEY_REGISTER_BUFFERS,
	RH_KEY_COUNT
};

struct rh_config_origin {
	unsigned line;	    /* of the file; 0: not in the file */
	const char *option; /* the command-line option that set it, or NULL */
};

struct rh_config {
	char *path; /* the file read */
	struct rh_config_origin origin[RH_KEY_COUNT];
	unsigned cpu_limit;
	bool share_ring_backend;
	bool enable_sq_poll;
	bool register_buffers;
	unsigned ring_entries;
	unsigned buffer_size;
	uint64_t splice_threshold;
	char *document_root; /* absolute: a relative --root is taken from the working directory */
	char **listen;
	size_t n_listen;
	char **tls_listen; /* addresses that speak TLS */
	size_t n_tls_listen;
	unsigned tls_protocols; /* RH_TLS_V1_2 | RH_TLS_V1_3 */
	char *tls_ciphers;	/* TLS 1.2, OpenSSL's cipher list syntax */
	char *tls_ciphersuites; /* TLS 1.3 */
	bool tls_session_tickets;
	bool ktls; /* "auto": offload sending to the kernel where it can */
	bool http2; /* h2 by ALPN on TLS sockets, h2c by prior knowledge on plain ones */
	unsigned http2_max_streams; /* SETTINGS_MAX_CONCURRENT_STREAMS */
	char *user;
	unsigned keepalive_timeout;
	unsigned header_timeout;
	unsigned send_timeout;
	unsigned max_connections;
	unsigned max_connections_per_ip; /* 0: no limit */
	unsigned max_connections_per_ip_v6_prefix; /* IPv6 clients counted per prefix */
	unsigned listing_max_entries;	 /* the most entries a directory listing shows */
	uint64_t file_cache_size;	 /* bytes of file contents per ring; 0: none */
	uint64_t file_cache_max_file;	 /* the largest file kept in memory */
	unsigned buffer_count;		 /* per ring; 0: derived from buffer_size */
	unsigned max_ranges;
	char *access_log;
	int log_level;
	struct rh_type_override *types;
	size_t n_types;
	/* The default site (the top level), `sites` and the status endpoint. */
	struct rh_sites_conf *sites;
};

/* Command-line values that replace those of the file (NULL/0: keep). */
struct rh_config_overrides {
	const char *document_root;
	const char *user;
	const char *const *listen;
	size_t n_listen;
	long cpu_limit; /* -1: keep */
};

/* Reads and validates PATH. On failure returns NULL and writes one line
 * "PATH:LINE: message" (or "PATH: message") into ERR. */
struct rh_config *rh_config_load(const char *path, const struct rh_config_overrides *ov,
				 char *err, size_t errlen);
void rh_config_free(struct rh_config *cfg);
/* The keys that a reload cannot apply (the table's) whose values differ
 * between OLD and NEW, as "cpu_limit, buffer_size" in BUF; their count. */
size_t rh_config_restart_keys(const struct rh_config *old, const struct rh_config *new, char *buf,
			      size_t len);
/* Where KEY's value came from, as an error message begins: "--root",
 * "FILE:LINE: document_root" or, for a default, "FILE: document_root". */
void rh_config_where(const struct rh_config *cfg, enum rh_config_key key, char *buf,
		     size_t len);

#endif
