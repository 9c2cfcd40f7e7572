/* Listening sockets: passed by systemd (socket activation) or bound from
 * the configuration's `listen` addresses. */
#ifndef RH_LISTEN_H
#define RH_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>


struct rh_config;

struct rh_listeners {
	int *fds;
	bool *tls; /* per socket: it speaks TLS */
	size_t n;
	int from_systemd;
	/* the port of the first TLS socket: where https_redirect sends
	 * clients; 0 when there is none */
	unsigned tls_port;
};

/* "1.2.3.4:80" or "[::1]:80" -> *SS. Returns the address length or -1. */
int rh_listen_parse_addr(const char *s, struct sockaddr_storage *ss);
/* "127.0.0.1:8080" for a socket's local address. */
void rh_listen_describe(int fd, char *buf, size_t len);

/* Takes systemd's sockets when LISTEN_FDS is set (those named "https"
 * speak TLS), otherwise binds CFG's addresses (`listen`, then
 * `tls_listen`). Returns 0, or -1 with a one-line message in ERR. */
int rh_listen_open(const struct rh_config *cfg, struct rh_listeners *ls, char *err,
		   size_t errlen);
void rh_listen_close(struct rh_listeners *ls);

#endif
