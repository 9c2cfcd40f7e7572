#include "uring_check.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "config.h"
#include "log.h"

/* An integer sysctl, or -1 when it cannot be read (older kernels, or a
 * sandbox without /proc/sys). */
static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

void rh_uring_explain(int err, char *buf, size_t len)
{
	long disabled, group;

	switch (-err) {
	case EPERM:
	case EACCES:
		disabled = read_sysctl("/proc/sys/kernel/io_uring_disabled");
		group = read_sysctl("/proc/sys/kernel/io_uring_group");
		if (disabled == 2) {
			snprintf(buf, len,
				 "io_uring is refused (%s): kernel.io_uring_disabled = 2 disables it "
				 "for every process; set it to 0 (sysctl kernel.io_uring_disabled=0, "
				 "and in /etc/sysctl.d/ to keep it)",
				 strerror(-err));
		} else if (disabled == 1) {
			snprintf(buf, len,
				 "io_uring is refused (%s): kernel.io_uring_disabled = 1 allows it "
				 "only to members of the group kernel.io_uring_group (%ld); add the "
				 "server's user to that group, or set kernel.io_uring_disabled = 0",
				 strerror(-err), group);
		} else {
			snprintf(buf, len,
				 "io_uring is refused (%s) though kernel.io_uring_disabled allows "
				 "it: a seccomp filter forbids io_uring_setup, as the default profiles "
				 "of Docker, Podman and containerd do; run the container with a "
				 "profile that allows io_uring_setup, io_uring_enter and "
				 "io_uring_register",
				 strerror(-err));
		}
		break;
	case ENOSYS:
		snprintf(buf, len,
			 "io_uring is not available (%s): the kernel is built without it "
			 "(CONFIG_IO_URING) or older than 5.1, or a seccomp filter answers ENOSYS; "
			 "ringhttpd needs Linux 5.19 or later (6.1 recommended)",
			 strerror(-err));
		break;
	case ENOMEM:
		snprintf(buf, len,
			 "io_uring_setup: %s: the ring does not fit in locked memory "
			 "(RLIMIT_MEMLOCK, on kernels before 5.12) or memory is short; raise "
			 "LimitMEMLOCK= or lower ring_entries",
			 strerror(-err));
		break;
	default:
		snprintf(buf, len, "io_uring_setup: %s", strerror(-err));
		break;
	}
}

static int try_setup(struct io_uring *ring, unsigned flags)
{
	struct io_uring_params p = { .flags = flags, .sq_thread_idle = 1000 };

	return io_uring_queue_init_params(8, ring, &p);
}

/* Provided-buffer rings (Linux 5.19) are what the receives need. */
static int check_buf_ring(struct io_uring *ring, char *err, size_t errlen)
{
	struct io_uring_buf_reg reg = { .ring_entries = 8, .bgid = 0 };
	size_t bytes = reg.ring_entries * sizeof(struct io_uring_buf);
	void *br = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	if (br == MAP_FAILED)
		return 0; /* says nothing about the kernel */
	reg.ring_addr = (uintptr_t)br;
	ret = io_uring_register_buf_ring(ring, &reg, 0);
	if (ret == 0)
		io_uring_unregister_buf_ring(ring, 0);
	munmap(br, bytes);
	if (ret < 0)
		snprintf(err, errlen,
			 "the kernel lacks io_uring provided-buffer rings (%s): Linux 5.19 or "
			 "later is needed, 6.1 recommended",
			 strerror(-ret));
	return ret;
}

static int check_fixed_buffers(struct io_uring *ring, const struct rh_config *cfg,
			       size_t bytes, char *err, size_t errlen)
{
	struct iovec iov = { NULL, bytes };
	struct rlimit rl = { 0, 0 };
	char where[256];
	int ret;

	iov.iov_base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (iov.iov_base == MAP_FAILED)
		return 0; /* says nothing about the kernel */
	ret = io_uring_register_buffers(ring, &iov, 1);
	munmap(iov.iov_base, bytes);
	rh_config_where(cfg, RH_KEY_REGISTER_BUFFERS, where, sizeof where);
	if (ret == -ENOMEM) {
		getrlimit(RLIMIT_MEMLOCK, &rl);
		if (rl.rlim_cur == RLIM_INFINITY)
			rh_warn("%s: %zu KiB per ring cannot be locked; start-up will leave the "
				"buffers unregistered", where, bytes / 1024);
		else
			rh_warn("%s: %zu KiB per ring exceed RLIMIT_MEMLOCK (%llu KiB); start-up "
				"will leave the buffers unregistered (raise LimitMEMLOCK= or the "
				"memlock limit)",
				where, bytes / 1024, (unsigned long long)rl.rlim_cur / 1024);
		return 0;
	}
	if (ret < 0) {
		snprintf(err, errlen, "%s: registering %zu KiB: %s", where, bytes / 1024,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int rh_uring_available(char *err, size_t errlen)
{
	struct io_uring ring;
	int ret = try_setup(&ring, 0);

	if (ret < 0) {
		rh_uring_explain(ret, err, errlen);
		return ret;
	}
	io_uring_queue_exit(&ring);
	return 0;
}

int rh_uring_probe(const struct rh_config *cfg, size_t fixed_bytes, char *err, size_t errlen)
{
	struct io_uring ring;
	char where[256];
	int ret = try_setup(&ring, 0);

	if (ret < 0) {
		rh_uring_explain(ret, err, errlen);
		return ret;
	}
	if (cfg->enable_sq_poll) {
		io_uring_queue_exit(&ring);
		ret = try_setup(&ring, IORING_SETUP_SQPOLL);
		if (ret < 0) {
			rh_config_where(cfg, RH_KEY_ENABLE_SQ_POLL, where, sizeof where);
			snprintf(err, errlen, "%s: io_uring with SQPOLL: %s", where, strerror(-ret));
			return ret;
		}
	}
	ret = check_buf_ring(&ring, err, errlen);
	if (ret == 0 && cfg->register_buffers && fixed_bytes)
		ret = check_fixed_buffers(&ring, cfg, fixed_bytes, err, errlen);
	io_uring_queue_exit(&ring);
	return ret;
}
