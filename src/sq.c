#include "sq.h"

#include <errno.h>
#include <string.h>

#include "log.h"

struct io_uring_sqe *rh_sq_get(struct io_uring *u, unsigned n)
{
	while (io_uring_sq_space_left(u) < n) {
		int ret = io_uring_submit(u);

		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			rh_warn("io_uring_submit: %s; an operation is dropped", strerror(-ret));
			return NULL;
		}
		/* with SQPOLL the kernel thread frees the room, and may need a moment */
		if (io_uring_sq_space_left(u) < n && (u->flags & IORING_SETUP_SQPOLL))
			io_uring_sqring_wait(u);
		else if (io_uring_sq_space_left(u) < n)
			return NULL;
	}
	return io_uring_get_sqe(u);
}
