#include "peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

void rh_peer_of_socket(struct rh_peer *p, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;

	memset(p, 0, sizeof *p);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		p->family = AF_INET;
		memcpy(p->addr, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		p->family = AF_INET;
		memcpy(p->addr, &a6->sin6_addr.s6_addr[12], 4);
	} else if (ss.ss_family == AF_INET6) {
		p->family = AF_INET6;
		memcpy(p->addr, &a6->sin6_addr, 16);
	}
}

void rh_peer_format(const struct rh_peer *p, char out[RH_PEER_STR])
{
	if (!p->family || !inet_ntop(p->family, p->addr, out, RH_PEER_STR))
		strcpy(out, "-");
}
