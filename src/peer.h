/* Client addresses as the logs write them: without port, and IPv4 clients
 * of a dual-stack socket as plain IPv4. */
#ifndef RH_PEER_H
#define RH_PEER_H

#include <stddef.h>
#include <sys/socket.h>

#define RH_PEER_MAX 46 /* INET6_ADDRSTRLEN */

/* SA (of LEN bytes) as text into BUF; "-" when it is no IP address. */
void rh_peer_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);
/* The same for the peer of the connected socket FD. */
void rh_peer_addr(int fd, char *buf, size_t len);

#endif
