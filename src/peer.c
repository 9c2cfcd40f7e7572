#include "peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

void rh_peer_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET && len >= sizeof *a4)
		inet_ntop(AF_INET, &a4->sin_addr, buf, buflen);
	else if (sa->sa_family == AF_INET6 && len >= sizeof *a6 &&
		 IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
		inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], buf, buflen);
	else if (sa->sa_family == AF_INET6 && len >= sizeof *a6)
		inet_ntop(AF_INET6, &a6->sin6_addr, buf, buflen);
	else
		snprintf(buf, buflen, "-");
}

void rh_peer_addr(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		snprintf(buf, len, "-");
	else
		rh_peer_format((struct sockaddr *)&ss, sl, buf, len);
}
