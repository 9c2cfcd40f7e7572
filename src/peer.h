/* A client's address, captured once at accept and kept in its connection
 * slot, so that it is known even after the client has gone. */
#ifndef RH_PEER_H
#define RH_PEER_H

#include <stddef.h>
#include <stdint.h>

#define RH_PEER_STR 46 /* INET6_ADDRSTRLEN */

struct rh_peer {
	uint8_t family; /* AF_INET, AF_INET6, or 0 when unknown */
	uint8_t addr[16];
};

/* From the socket's peer; IPv4 clients of a dual-stack socket as IPv4. */
void rh_peer_of_socket(struct rh_peer *p, int fd);
/* "192.0.2.1", "2001:db8::1", or "-" when unknown. */
void rh_peer_format(const struct rh_peer *p, char out[RH_PEER_STR]);

#endif
