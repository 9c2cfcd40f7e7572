#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int rh_listen_parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	long port;

	memset(ss, 0, sizeof *ss);
	colon = strrchr(s, ':');
	if (!colon)
		return -1;
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 2 || s[hlen - 1] != ']')
			return -1;
		h = s + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof host)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 0 || port > 65535)
		return -1;
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? (int)sizeof *a : -1;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? (int)sizeof *a : -1;
	}
}

void rh_listen_describe(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char host[INET6_ADDRSTRLEN];

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(buf, len, "fd %d", fd);
	} else if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		snprintf(buf, len, "unix:%s", ((struct sockaddr_un *)&ss)->sun_path);
	} else {
		snprintf(buf, len, "fd %d", fd);
	}
}

/* Small responses go out at once: the head and a small body are one send. */
static void set_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void find_tls_port(struct rh_listeners *ls)
{
	for (size_t i = 0; i < ls->n && !ls->tls_port; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;

		if (!ls->tls[i] || getsockname(ls->fds[i], (struct sockaddr *)&ss, &sl) < 0)
			continue;
		if (ss.ss_family == AF_INET)
			ls->tls_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			ls->tls_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
}

static void free_names(char **names)
{
	for (int i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
}

static int from_systemd(int n, struct rh_listeners *ls, char *err, size_t errlen)
{
	char **names = NULL;
	int ret = 0;

	sd_listen_fds_with_names(1, &names);
	ls->fds = calloc(n, sizeof *ls->fds);
	ls->tls = calloc(n, sizeof *ls->tls);
	if (!ls->fds || !ls->tls) {
		snprintf(err, errlen, "out of memory");
		free_names(names);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			snprintf(err, errlen,
				 "file descriptor %d (%s) passed by systemd is not a listening "
				 "stream socket",
				 fd, names && names[i] ? names[i] : "unknown");
			ret = -1;
			break;
		}
		if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0)
			set_nodelay(fd);
		ls->tls[ls->n] = names && names[i] && !strcmp(names[i], "https");
		ls->fds[ls->n++] = fd;
	}
	free_names(names);
	ls->from_systemd = 1;
	return ret;
}

static int bind_one(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int len = rh_listen_parse_addr(addr, &ss), one = 1, fd;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "listen %s: socket: %s", addr, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6) /* "[::]:80" next to "0.0.0.0:80" */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	set_nodelay(fd);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "listen %s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int rh_listen_open(const struct rh_config *cfg, struct rh_listeners *ls, char *err,
		   size_t errlen)
{
	int n = sd_listen_fds(0);

	memset(ls, 0, sizeof *ls);
	if (n < 0) {
		snprintf(err, errlen, "LISTEN_FDS: %s", strerror(-n));
		return -1;
	}
	if (n > 0) {
		if (from_systemd(n, ls, err, errlen) < 0)
			return -1;
		find_tls_port(ls);
		rh_info("%d socket(s) from systemd; the listen and tls_listen settings are ignored",
			n);
		return 0;
	}
	ls->fds = calloc(cfg->n_listen + cfg->n_tls_listen, sizeof *ls->fds);
	ls->tls = calloc(cfg->n_listen + cfg->n_tls_listen, sizeof *ls->tls);
	if (!ls->fds || !ls->tls) {
		snprintf(err, errlen, "out of memory");
		rh_listen_close(ls);
		return -1;
	}
	for (size_t i = 0; i < cfg->n_listen + cfg->n_tls_listen; i++) {
		bool tls = i >= cfg->n_listen;
		int fd = bind_one(tls ? cfg->tls_listen[i - cfg->n_listen] : cfg->listen[i], err,
				  errlen);
		if (fd < 0) {
			rh_listen_close(ls);
			return -1;
		}
		ls->tls[ls->n] = tls;
		ls->fds[ls->n++] = fd;
	}
	find_tls_port(ls);
	return 0;
}

void rh_listen_close(struct rh_listeners *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		close(ls->fds[i]);
	free(ls->fds);
	free(ls->tls);
	memset(ls, 0, sizeof *ls);
}
