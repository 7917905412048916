// SPDX-License-Identifier: MIT
/*
 * vfio-user server library. See server.h for the threading model.
 *
 * Locks:
 *   map_lock (rwlock)  the DMA map table; readers are DMA transfers, the
 *                      loop thread writes on DMA_MAP/UNMAP and disconnect,
 *                      so an unmap waits for transfers in flight.
 *   irq_lock           the eventfd tables.
 *   dma_lock           one DMA message exchange at a time (twin socket,
 *                      or the main socket from the loop thread); taken
 *                      before map_lock.
 * Everything else belongs to the loop thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "common/phase.h"
#include "vfio-user/server.h"
#include "vfio-user/transport.h"

#define slog(s, lvl, ...) log_msg(lvl, (s)->name, __VA_ARGS__)
#define slog_debug(s, ...)                                               \
	do {                                                             \
		if (log_get_level() >= LOG_DEBUG)                        \
			log_msg(LOG_DEBUG, (s)->name, __VA_ARGS__);      \
	} while (0)

#define MAX_REGIONS		VFU_MAX_NUM_REGIONS
#define MAX_DMA_REGIONS		1024
#define MAX_IOEVENTFDS		64
#define MAX_STASHED		64

struct region {
	struct vfu_server_region r;
	struct vfu_sparse_area *areas;
	bool present;
};

struct dma_region {
	u64 iova, size;
	u32 flags;
	void *map;		/* whole mapping, or NULL */
	size_t map_len;
	u8 *vaddr;		/* iova maps here */
};

struct ioeventfd {
	u32 region;
	u64 offset, size;
	int fd;
	u32 flags;
	u64 datamatch;
};

/* A client command that arrived while the loop waited for a DMA reply. */
struct stashed {
	struct stashed *next;
	struct vfu_hdr hdr;
	struct vfu_fds *fds;
	u32 len;
	u8 payload[];
};

struct vfu_server {
	char name[64];
	struct vfu_server_options opts;
	const struct vfu_server_ops *ops;
	struct region regions[MAX_REGIONS];
	u32 irq_count[VFU_NUM_IRQ_INDEXES];

	int listen_fd;
	char *listen_path;
	int kick_fd;			/* eventfd: work and stop */
	bool stop;			/* set with stop_lock */
	pthread_mutex_t stop_lock;

	/* Connection. */
	bool connected;
	bool negotiated;		/* VERSION done: once, first */
	char version_why[200];		/* why VERSION was refused */
	struct vfu_transport t;
	struct vfu_transport twin;
	bool has_twin, twin_broken;
	struct vfu_caps client;
	pthread_t loop_thread;
	bool in_loop;
	u8 *rx_buf;
	u32 rx_limit;
	struct vfu_fds *rx_fds;
	u8 *tx_buf;
	struct stashed *stash_head, *stash_tail;
	unsigned int nr_stashed;

	pthread_rwlock_t map_lock;
	struct dma_region dma[MAX_DMA_REGIONS];
	unsigned int nr_dma;

	pthread_mutex_t irq_lock;
	int *efds[VFU_NUM_IRQ_INDEXES];

	struct ioeventfd ioeventfds[MAX_IOEVENTFDS];
	unsigned int nr_ioeventfds;
	u64 nr_no_reply;	/* loop thread writes, anyone reads */
	u64 phase_rx;		/* make bench's phases: request in */

	pthread_mutex_t dma_lock;
	u16 dma_id;
	u32 nr_dma_reads;		/* for opts.exit_in_dma_read */
	u8 *dma_buf;
	struct vfu_fds *dma_fds;
};

/* ---- setup ------------------------------------------------------------------ */

int vfu_server_create(const struct vfu_server_options *opts,
		      struct vfu_server **out)
{
	static const struct vfu_server_ops no_ops;
	struct vfu_server *s;
	unsigned int i;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (opts)
		s->opts = *opts;
	snprintf(s->name, sizeof(s->name), "%s",
		 s->opts.name ? s->opts.name : "vfu-server");
	s->opts.name = NULL;
	s->ops = s->opts.ops ? s->opts.ops : &no_ops;
	if (!s->opts.device_flags)
		s->opts.device_flags = VFU_DEVICE_F_PCI | VFU_DEVICE_F_RESET;
	if (!s->opts.num_regions)
		s->opts.num_regions = VFU_PCI_NUM_REGIONS;
	if (!s->opts.num_irqs)
		s->opts.num_irqs = VFU_NUM_IRQ_INDEXES;
	if (!s->opts.max_msg_fds ||
	    s->opts.max_msg_fds > VFU_MAX_MSG_FDS_ANNOUNCE)
		s->opts.max_msg_fds = VFU_MAX_MSG_FDS_ANNOUNCE;
	if (!s->opts.max_data_xfer_size)
		s->opts.max_data_xfer_size = VFU_DEFAULT_MAX_DATA_XFER;
	if (!s->opts.timeout_ms)
		s->opts.timeout_ms = 5000;
	if (s->opts.num_regions > MAX_REGIONS ||
	    s->opts.num_irqs > VFU_NUM_IRQ_INDEXES ||
	    s->opts.max_data_xfer_size > VFU_MAX_DATA_XFER_LIMIT) {
		free(s);
		return -EINVAL;
	}
	s->listen_fd = -1;
	s->t.fd = -1;
	s->twin.fd = -1;
	s->rx_limit = VFU_HDR_SIZE + s->opts.max_data_xfer_size +
		      VFU_MSG_SLACK;
	s->rx_buf = malloc(s->rx_limit);
	s->tx_buf = malloc(s->rx_limit);
	s->rx_fds = malloc(sizeof(*s->rx_fds));
	s->dma_fds = malloc(sizeof(*s->dma_fds));
	s->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!s->rx_buf || !s->tx_buf || !s->rx_fds || !s->dma_fds ||
	    s->kick_fd < 0) {
		vfu_server_destroy(s);
		return -ENOMEM;
	}
	s->rx_fds->nr = 0;
	s->dma_fds->nr = 0;
	pthread_mutex_init(&s->stop_lock, NULL);
	pthread_rwlock_init(&s->map_lock, NULL);
	pthread_mutex_init(&s->irq_lock, NULL);
	pthread_mutex_init(&s->dma_lock, NULL);
	for (i = 0; i < MAX_IOEVENTFDS; i++)
		s->ioeventfds[i].fd = -1;
	*out = s;
	return 0;
}

int vfu_server_setup_region(struct vfu_server *srv, u32 index,
			    const struct vfu_server_region *r)
{
	struct region *reg;
	u32 i;

	if (index >= srv->opts.num_regions || !r->size ||
	    (r->flags & ~(VFU_REGION_F_READ | VFU_REGION_F_WRITE)) ||
	    r->nr_areas > VFU_MAX_SPARSE_AREAS || (r->nr_areas && !r->areas) ||
	    (r->nr_areas && r->fd < 0))
		return -EINVAL;
	if (index == VFU_PCI_CONFIG && r->fd >= 0)
		return -EINVAL;		/* config space is never mapped */
	for (i = 0; i < r->nr_areas; i++) {
		const struct vfu_sparse_area *a = &r->areas[i];

		if (!a->size || a->offset + a->size > r->size ||
		    a->offset + a->size < a->offset ||
		    !IS_ALIGNED(a->offset, 4096) || !IS_ALIGNED(a->size, 4096))
			return -EINVAL;
	}
	if (r->fd >= 0 && !r->nr_areas &&
	    (!IS_ALIGNED(r->size, 4096)))
		return -EINVAL;
	reg = &srv->regions[index];
	if (reg->present) {
		if (reg->r.fd >= 0)
			close(reg->r.fd);
		free(reg->areas);
	}
	memset(reg, 0, sizeof(*reg));
	reg->r = *r;
	reg->r.fd = -1;
	if (r->fd >= 0) {
		u32 n = r->nr_areas ? r->nr_areas : 1;

		reg->areas = calloc(n, sizeof(*reg->areas));
		if (!reg->areas)
			return -ENOMEM;
		if (r->nr_areas)
			memcpy(reg->areas, r->areas, n * sizeof(*reg->areas));
		else
			reg->areas[0] = (struct vfu_sparse_area){ 0, r->size };
		reg->r.nr_areas = n;
		reg->r.fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
		if (reg->r.fd < 0) {
			free(reg->areas);
			reg->areas = NULL;
			return -errno;
		}
	}
	reg->r.areas = NULL;
	reg->present = true;
	return 0;
}

int vfu_server_setup_irq(struct vfu_server *srv, u32 index, u32 count)
{
	int *efds;
	u32 i;

	if (index >= srv->opts.num_irqs || srv->connected ||
	    count > (index == VFU_IRQ_MSIX ? VFU_MAX_IRQ_COUNT :
		     index == VFU_IRQ_MSI ? VFU_MAX_MSI_COUNT : 1))
		return -EINVAL;
	efds = count ? calloc(count, sizeof(int)) : NULL;
	if (count && !efds)
		return -ENOMEM;
	for (i = 0; i < count; i++)
		efds[i] = -1;
	pthread_mutex_lock(&srv->irq_lock);
	free(srv->efds[index]);
	srv->efds[index] = efds;
	srv->irq_count[index] = count;
	pthread_mutex_unlock(&srv->irq_lock);
	return 0;
}

int vfu_server_add_ioeventfd(struct vfu_server *srv, u32 region, u64 offset,
			     u64 size, int fd, u32 flags, u64 datamatch)
{
	struct ioeventfd *e;

	if (region >= srv->opts.num_regions || !srv->regions[region].present ||
	    offset + size > srv->regions[region].r.size || fd < 0)
		return -EINVAL;
	if (srv->nr_ioeventfds >= MAX_IOEVENTFDS)
		return -ENOSPC;
	e = &srv->ioeventfds[srv->nr_ioeventfds];
	e->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (e->fd < 0)
		return -errno;
	e->region = region;
	e->offset = offset;
	e->size = size;
	e->flags = flags;
	e->datamatch = datamatch;
	srv->nr_ioeventfds++;
	return 0;
}

int vfu_server_add_kick_ioeventfd(struct vfu_server *srv, u32 region,
				  u64 offset, u64 size)
{
	if (!srv->ops->work)
		return -EINVAL;		/* nothing would run on the kick */
	return vfu_server_add_ioeventfd(srv, region, offset, size,
					srv->kick_fd, 0, 0);
}

/* ---- connection teardown ---------------------------------------------------- */

static void stash_free_all(struct vfu_server *srv)
{
	struct stashed *st;

	while ((st = srv->stash_head)) {
		srv->stash_head = st->next;
		vfu_fds_close(st->fds, 0);
		free(st->fds);
		free(st);
	}
	srv->stash_tail = NULL;
	srv->nr_stashed = 0;
}

static void dma_unmap_entry(struct vfu_server *srv, struct dma_region *d)
{
	if (srv->ops->dma_unmap)
		srv->ops->dma_unmap(srv->opts.opaque, d->iova, d->size);
	if (d->map)
		munmap(d->map, d->map_len);
}

static void disconnect(struct vfu_server *srv)
{
	unsigned int i, j;

	if (!srv->connected)
		return;
	pthread_rwlock_wrlock(&srv->map_lock);
	for (i = 0; i < srv->nr_dma; i++)
		dma_unmap_entry(srv, &srv->dma[i]);
	srv->nr_dma = 0;
	pthread_rwlock_unlock(&srv->map_lock);
	pthread_mutex_lock(&srv->irq_lock);
	for (i = 0; i < VFU_NUM_IRQ_INDEXES; i++) {
		for (j = 0; j < srv->irq_count[i]; j++) {
			if (srv->efds[i][j] >= 0)
				close(srv->efds[i][j]);
			srv->efds[i][j] = -1;
		}
	}
	pthread_mutex_unlock(&srv->irq_lock);
	stash_free_all(srv);
	pthread_mutex_lock(&srv->dma_lock);
	vfu_transport_close(&srv->t);
	if (srv->has_twin)
		vfu_transport_close(&srv->twin);
	srv->has_twin = false;
	srv->twin_broken = false;
	srv->negotiated = false;
	srv->connected = false;
	pthread_mutex_unlock(&srv->dma_lock);
	if (srv->ops->disconnected)
		srv->ops->disconnected(srv->opts.opaque);
}

void vfu_server_destroy(struct vfu_server *srv)
{
	unsigned int i;

	if (!srv)
		return;
	disconnect(srv);
	for (i = 0; i < MAX_REGIONS; i++) {
		if (srv->regions[i].present && srv->regions[i].r.fd >= 0)
			close(srv->regions[i].r.fd);
		free(srv->regions[i].areas);
	}
	for (i = 0; i < VFU_NUM_IRQ_INDEXES; i++)
		free(srv->efds[i]);
	for (i = 0; i < srv->nr_ioeventfds; i++)
		close(srv->ioeventfds[i].fd);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->listen_path) {
		unlink(srv->listen_path);
		free(srv->listen_path);
	}
	if (srv->kick_fd >= 0)
		close(srv->kick_fd);
	free(srv->rx_buf);
	free(srv->tx_buf);
	free(srv->rx_fds);
	free(srv->dma_fds);
	free(srv->dma_buf);
	pthread_mutex_destroy(&srv->stop_lock);
	pthread_rwlock_destroy(&srv->map_lock);
	pthread_mutex_destroy(&srv->irq_lock);
	pthread_mutex_destroy(&srv->dma_lock);
	free(srv);
}

/* ---- sending ------------------------------------------------------------------ */

static int send_reply(struct vfu_server *srv, const struct vfu_hdr *req,
		      int err, const void *payload, u32 len, const int *fds,
		      unsigned int nr_fds)
{
	struct vfu_hdr h;
	struct iovec iov = { (void *)payload, len };
	int ret;

	if (phase_enabled)
		phase_record(req->msg_id, req->cmd, 0, 0, srv->phase_rx,
			     phase_now(), 0);
	if ((req->flags & VFU_F_NO_REPLY) && !srv->opts.reply_to_no_reply)
		return 0;
	if (err) {
		vfu_hdr_init(&h, req->msg_id, req->cmd, 0,
			     VFU_F_TYPE_REPLY | VFU_F_ERROR);
		h.error_no = vfu_errno_for_reply(err);
		len = 0;
		nr_fds = 0;
	} else {
		vfu_hdr_init(&h, req->msg_id, req->cmd, len, VFU_F_TYPE_REPLY);
	}
	ret = vfu_transport_send(&srv->t, &h, &iov, len ? 1 : 0, fds, nr_fds);
	if (ret)
		slog(srv, LOG_WARN, "reply to %s id %u: %s",
		     vfu_cmd_name(req->cmd), req->msg_id, strerror(-ret));
	return ret;
}

/* ---- negotiation ---------------------------------------------------------------- */

static int recv_command(struct vfu_server *srv, struct vfu_hdr *h, u32 *len,
			char *why, size_t why_len);
static int handle_command(struct vfu_server *srv, const struct vfu_hdr *h,
			  const u8 *p, u32 len, struct vfu_fds *fds);

/*
 * The client's VERSION (validated): its caps, ours in the reply, and the
 * twin socket when both want one. *nr_out is 1 when out_fds[0] is the
 * client's end of the twin, which the caller closes once it is sent.
 */
static int handle_version(struct vfu_server *srv, const u8 *p, u32 len,
			  u32 *out_len, int *out_fds, unsigned int *nr_out)
{
	char *why = srv->version_why;
	size_t why_len = sizeof(srv->version_why);
	struct vfu_caps ours, theirs;
	struct vfu_version v;
	char json[256];
	int sv[2] = { -1, -1 }, ret, n;

	if (srv->negotiated)
		return -EINVAL;		/* only once */
	memcpy(&v, p, sizeof(v));
	if (v.major != VFU_VERSION_MAJOR) {
		snprintf(why, why_len, "client version %u.%u", v.major,
			 v.minor);
		return -EINVAL;
	}
	ret = vfu_caps_parse((const char *)p + sizeof(v), len - sizeof(v),
			     &theirs, why, why_len);
	if (ret)
		return ret;

	vfu_caps_defaults(&ours);
	ours.max_msg_fds = srv->opts.max_msg_fds;
	ours.max_data_xfer_size = srv->opts.max_data_xfer_size;
	if (theirs.twin_socket && !srv->opts.no_twin_socket &&
	    theirs.max_msg_fds > 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
			ret = -errno;
			snprintf(why, why_len, "socketpair: %s",
				 strerror(errno));
			return ret;
		}
		ours.twin_socket = true;
		ours.twin_fd_index_set = true;
		ours.twin_fd_index = 0;
	}
	memset(&v, 0, sizeof(v));
	n = vfu_caps_format(&ours, json, sizeof(json));
	if (n < 0) {
		ret = n;
		goto fail;
	}
	if (sv[0] >= 0) {
		/* Ready before the reply: the client may use it at once. */
		vfu_transport_init(&srv->twin, sv[0], NULL, NULL);
		vfu_transport_set_timeout(&srv->twin, srv->opts.timeout_ms);
		srv->has_twin = true;	/* disconnect() closes it */
		sv[0] = -1;
		ret = vfu_transport_rx_buffer(&srv->twin,
					      VFU_TRANSPORT_RX_BUFFER);
		if (ret) {
			snprintf(why, why_len, "twin socket buffer: %s",
				 strerror(-ret));
			goto fail;
		}
		out_fds[(*nr_out)++] = sv[1];
	}
	memcpy(srv->tx_buf, &v, sizeof(v));
	memcpy(srv->tx_buf + sizeof(v), json, n);
	*out_len = sizeof(v) + n;
	srv->client = theirs;
	srv->negotiated = true;
	slog_debug(srv, "client caps: max_msg_fds %u max_data_xfer_size %u twin %s",
		   theirs.max_msg_fds, theirs.max_data_xfer_size,
		   srv->has_twin ? "yes" : "no");
	return 0;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return ret;
}

/* The first message, through the same receive and dispatch as the rest. */
static int negotiate(struct vfu_server *srv)
{
	struct vfu_hdr h;
	char why[256] = "";
	u32 len;
	int ret;

	srv->version_why[0] = 0;
	ret = recv_command(srv, &h, &len, why, sizeof(why));
	if (ret == -EAGAIN)
		snprintf(why, sizeof(why), "no VERSION within %u ms",
			 srv->opts.timeout_ms);
	if (ret)
		goto out;
	if (h.cmd != VFU_CMD_VERSION) {
		ret = -EINVAL;
		snprintf(why, sizeof(why), "first message is %s, not VERSION",
			 vfu_cmd_name(h.cmd));
		vfu_fds_close(srv->rx_fds, 0);
		send_reply(srv, &h, ret, NULL, 0, NULL, 0);
		goto out;
	}
	ret = handle_command(srv, &h, srv->rx_buf, len, srv->rx_fds);
	if (ret)
		snprintf(why, sizeof(why), "sending VERSION reply: %s",
			 strerror(-ret));
	else if (!srv->negotiated)
		ret = -EINVAL;
	if (ret == -EINVAL)
		snprintf(why, sizeof(why), "VERSION refused: %s",
			 srv->version_why[0] ? srv->version_why :
					       "malformed");
out:
	if (ret)
		slog(srv, LOG_ERR, "negotiation failed: %s", why);
	return ret;
}

int vfu_server_attach_fd(struct vfu_server *srv, int fd)
{
	int ret;

	if (srv->connected) {
		close(fd);
		return -EBUSY;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	vfu_transport_init(&srv->t, fd, NULL, NULL);
	ret = vfu_transport_rx_buffer(&srv->t, VFU_TRANSPORT_RX_BUFFER);
	if (ret) {
		vfu_transport_close(&srv->t);
		return ret;
	}
	vfu_transport_set_timeout(&srv->t, srv->opts.timeout_ms);
	srv->connected = true;
	srv->dma_id = 1;
	ret = negotiate(srv);
	if (ret)
		disconnect(srv);
	return ret;
}

int vfu_server_listen(struct vfu_server *srv, const char *path)
{
	char why[300];
	int fd;

	fd = vfu_listen_unix(path, why, sizeof(why));
	if (fd < 0) {
		slog(srv, LOG_ERR, "%s", why);
		return fd;
	}
	srv->listen_fd = fd;
	free(srv->listen_path);
	srv->listen_path = strdup(path);
	return 0;
}

int vfu_listen_unix(const char *path, char *err, size_t err_len)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path))
		return err_fmt(err, err_len, -ENAMETOOLONG,
			       "socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return err_fmt(err, err_len, -EEXIST,
				       "%s exists and is not a socket", path);
		if (unlink(path) && errno != ENOENT)
			return err_fmt(err, err_len, -errno,
				       "removing stale socket %s: %s", path,
				       strerror(errno));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_fmt(err, err_len, -errno, "socket: %s",
			       strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 1)) {
		ret = err_fmt(err, err_len, -errno, "listen on %s: %s", path,
			      strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

int vfu_accept_stoppable(int listen_fd, int stop_fd)
{
	struct pollfd pfd[2] = {
		{ .fd = listen_fd, .events = POLLIN },
		{ .fd = stop_fd, .events = POLLIN },
	};
	int fd;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents)
			return -ECANCELED;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EINTR && errno != ECONNABORTED &&
		    errno != EAGAIN)
			return -errno;
	}
}

/*
 * The stop of a server program (vfu_stop_on_signals()). The process's,
 * not on any stack: the signal thread is never joined and may take a
 * signal while exit() runs after main() has returned.
 */
static struct {
	pthread_mutex_t lock;
	struct vfu_server *srv;		/* stopped by the signal, or NULL */
	const char *path;		/* removed once, or NULL */
	bool path_unlinked;
	bool requested;
	int efd;			/* never closed: the thread writes it */
} prog_stop = { .lock = PTHREAD_MUTEX_INITIALIZER, .efd = -1 };

/* Caller holds prog_stop.lock. */
static void prog_stop_unlink(void)
{
	if (prog_stop.path && !prog_stop.path_unlinked)
		unlink(prog_stop.path);
	prog_stop.path_unlinked = true;
}

static void *prog_stop_thread(void *arg)
{
	sigset_t set;
	u64 one = 1;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		pthread_mutex_lock(&prog_stop.lock);
		prog_stop_unlink();
		if (prog_stop.requested) {
			/* A second signal: the first one is stuck. */
			log_err("%s again: exiting now", strsignal(sig));
			_exit(1);
		}
		prog_stop.requested = true;
		log_info("%s: stopping", strsignal(sig));
		if (write(prog_stop.efd, &one, sizeof(one)) != sizeof(one))
			log_warn("waking the main thread: %s", strerror(errno));
		if (prog_stop.srv)
			vfu_server_stop(prog_stop.srv);
		pthread_mutex_unlock(&prog_stop.lock);
	}
	return NULL;
}

int vfu_stop_on_signals(const char *unlink_path)
{
	pthread_t thread;
	int efd, ret;

	if (prog_stop.efd >= 0)
		return -EALREADY;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return -errno;
	pthread_mutex_lock(&prog_stop.lock);
	prog_stop.efd = efd;
	prog_stop.path = unlink_path;
	pthread_mutex_unlock(&prog_stop.lock);
	ret = pthread_create(&thread, NULL, prog_stop_thread, NULL);
	if (ret) {
		prog_stop.efd = -1;
		close(efd);
		return -ret;
	}
	pthread_detach(thread);
	return efd;
}

void vfu_stop_server(struct vfu_server *srv)
{
	pthread_mutex_lock(&prog_stop.lock);
	prog_stop.srv = srv;
	pthread_mutex_unlock(&prog_stop.lock);
}

bool vfu_stop_requested(void)
{
	bool requested;

	pthread_mutex_lock(&prog_stop.lock);
	requested = prog_stop.requested;
	pthread_mutex_unlock(&prog_stop.lock);
	return requested;
}

void vfu_stop_unlink(void)
{
	pthread_mutex_lock(&prog_stop.lock);
	prog_stop_unlink();
	pthread_mutex_unlock(&prog_stop.lock);
}

int vfu_server_accept(struct vfu_server *srv)
{
	int fd;

	if (srv->listen_fd < 0)
		return -EINVAL;
	do {
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -errno;
	return vfu_server_attach_fd(srv, fd);
}

u64 vfu_server_no_reply_count(struct vfu_server *srv)
{
	return __atomic_load_n(&srv->nr_no_reply, __ATOMIC_RELAXED);
}

bool vfu_server_has_twin_socket(struct vfu_server *srv)
{
	return srv->has_twin;
}

void vfu_server_client_caps(struct vfu_server *srv, struct vfu_caps *caps)
{
	*caps = srv->client;
}

/* ---- DMA ------------------------------------------------------------------------ */

static struct dma_region *dma_find(struct vfu_server *srv, u64 iova, u64 len)
{
	unsigned int i;

	for (i = 0; i < srv->nr_dma; i++) {
		struct dma_region *d = &srv->dma[i];

		if (iova >= d->iova && iova - d->iova < d->size &&
		    len <= d->size - (iova - d->iova))
			return d;
	}
	return NULL;
}

static int stash_command(struct vfu_server *srv, const struct vfu_hdr *h,
			 const u8 *payload, u32 len, struct vfu_fds *fds)
{
	struct stashed *st;

	if (srv->nr_stashed >= MAX_STASHED)
		return -ENOBUFS;
	st = malloc(sizeof(*st) + len);
	if (!st)
		return -ENOMEM;
	st->fds = malloc(sizeof(*st->fds));
	if (!st->fds) {
		free(st);
		return -ENOMEM;
	}
	st->next = NULL;
	st->hdr = *h;
	st->len = len;
	memcpy(st->payload, payload, len);
	memcpy(st->fds, fds, sizeof(*fds));
	fds->nr = 0;
	if (srv->stash_tail)
		srv->stash_tail->next = st;
	else
		srv->stash_head = st;
	srv->stash_tail = st;
	srv->nr_stashed++;
	return 0;
}

/*
 * One DMA_READ/DMA_WRITE exchange (dma_lock held). On the main socket
 * (no twin) client commands that arrive first are stashed for the loop.
 */
static int dma_exchange(struct vfu_server *srv, bool write, u64 iova,
			void *buf, u32 count)
{
	struct vfu_transport *t = srv->has_twin ? &srv->twin : &srv->t;
	struct vfu_dma_access da = { .addr = iova, .count = count };
	struct iovec iov[2] = { { &da, sizeof(da) }, { buf, write ? count : 0 } };
	struct vfu_hdr h, rep;
	char why[200] = "";
	u32 len, limit = VFU_HDR_SIZE + sizeof(da) + count + VFU_MSG_SLACK;
	int ret;

	if (srv->has_twin && srv->twin_broken)
		return -EIO;
	vfu_hdr_init(&h, srv->dma_id++, write ? VFU_CMD_DMA_WRITE :
						 VFU_CMD_DMA_READ,
		     sizeof(da) + (write ? count : 0), VFU_F_TYPE_COMMAND);
	ret = vfu_transport_send(t, &h, iov, write ? 2 : 1, NULL, 0);
	if (ret)
		goto broken;
	if (!write && srv->opts.exit_in_dma_read &&
	    ++srv->nr_dma_reads == srv->opts.exit_in_dma_read) {
		slog(srv, LOG_WARN, "DMA_READ id %u sent: exiting before its reply (exit_in_dma_read)",
		     h.msg_id);
		_exit(9);
	}
	for (;;) {
		vfu_fds_init(srv->dma_fds);
		if (!srv->has_twin)
			limit = MAX(limit, srv->rx_limit);
		ret = vfu_transport_recv_hdr(t, &rep, limit, srv->dma_fds, why,
					     sizeof(why));
		if (ret == -EAGAIN)
			ret = -ETIMEDOUT;
		if (ret)
			goto broken;
		len = rep.size - VFU_HDR_SIZE;
		ret = vfu_transport_recv_body(t, srv->dma_buf, len,
					      srv->dma_fds);
		if (ret)
			goto broken;
		if (vfu_hdr_type(&rep) == VFU_F_TYPE_COMMAND && !srv->has_twin) {
			ret = stash_command(srv, &rep, srv->dma_buf, len,
					    srv->dma_fds);
			if (ret)
				goto broken;
			continue;
		}
		break;
	}
	ret = vfu_validate_reply(&h, &da, sizeof(da), &rep, srv->dma_buf, len,
				 srv->dma_fds->nr, why, sizeof(why));
	vfu_fds_close(srv->dma_fds, 0);
	if (ret)
		goto broken;
	if (rep.flags & VFU_F_ERROR)
		return vfu_reply_errno(&rep);
	if (!write)
		memcpy(buf, srv->dma_buf + sizeof(da), count);
	return 0;

broken:
	vfu_fds_close(srv->dma_fds, 0);
	slog(srv, LOG_ERR, "DMA %s 0x%llx+%u: %s", write ? "write" : "read",
	     (unsigned long long)iova, count, why[0] ? why : strerror(-ret));
	/* The stream may be out of step now: no more DMA messages. */
	if (srv->has_twin)
		srv->twin_broken = true;
	else
		vfu_transport_shutdown(&srv->t);
	return ret;
}

static int dma_xfer(struct vfu_server *srv, bool write, u64 iova, void *buf,
		    u64 len)
{
	struct dma_region *d;
	u64 done = 0;
	u32 chunk;
	int ret = 0;

	if (!len)
		return 0;
	if (iova + len < iova)
		return -EINVAL;
	pthread_rwlock_rdlock(&srv->map_lock);
	d = dma_find(srv, iova, len);
	if (!d) {
		ret = -EFAULT;
		goto out;
	}
	if (!(d->flags & (write ? VFU_DMA_MAP_F_WRITE : VFU_DMA_MAP_F_READ))) {
		ret = -EPERM;
		goto out;
	}
	if (d->vaddr) {
		u8 *p = d->vaddr + (iova - d->iova);

		if (write)
			memcpy(p, buf, len);
		else
			memcpy(buf, p, len);
		goto out;
	}
	pthread_rwlock_unlock(&srv->map_lock);

	/* No mapping: messages, chunked by the client's limit. */
	pthread_mutex_lock(&srv->dma_lock);
	if (!srv->connected) {
		ret = -ENOTCONN;
		goto out_dma;
	}
	if (!srv->has_twin &&
	    (!srv->in_loop || !pthread_equal(srv->loop_thread, pthread_self()))) {
		slog(srv, LOG_WARN,
		     "DMA by messages without a twin socket only from the loop thread");
		ret = -EOPNOTSUPP;
		goto out_dma;
	}
	chunk = srv->client.max_data_xfer_size;
	if (!srv->dma_buf) {
		srv->dma_buf = malloc(MAX(srv->rx_limit,
					  VFU_HDR_SIZE + chunk + VFU_MSG_SLACK));
		if (!srv->dma_buf) {
			ret = -ENOMEM;
			goto out_dma;
		}
	}
	while (done < len && !ret) {
		u32 n = (u32)MIN(len - done, (u64)chunk);

		ret = dma_exchange(srv, write, iova + done, (u8 *)buf + done,
				   n);
		done += n;
	}
out_dma:
	pthread_mutex_unlock(&srv->dma_lock);
	return ret;
out:
	pthread_rwlock_unlock(&srv->map_lock);
	return ret;
}

int vfu_server_dma_read(struct vfu_server *srv, u64 iova, void *buf, u64 len)
{
	return dma_xfer(srv, false, iova, buf, len);
}

int vfu_server_dma_write(struct vfu_server *srv, u64 iova, const void *buf,
			 u64 len)
{
	return dma_xfer(srv, true, iova, (void *)buf, len);
}

/* ---- IRQs ---------------------------------------------------------------------------- */

int vfu_server_irq_trigger(struct vfu_server *srv, u32 index, u32 vector)
{
	u64 one = 1;
	int fd = -1, ret = 0;

	pthread_mutex_lock(&srv->irq_lock);
	if (index >= VFU_NUM_IRQ_INDEXES || vector >= srv->irq_count[index])
		ret = -EINVAL;
	else if ((fd = srv->efds[index][vector]) < 0)
		ret = -ENOENT;
	else if (write(fd, &one, sizeof(one)) != sizeof(one))
		ret = -errno;
	pthread_mutex_unlock(&srv->irq_lock);
	return ret;
}

bool vfu_server_irq_enabled(struct vfu_server *srv, u32 index, u32 vector)
{
	bool on;

	pthread_mutex_lock(&srv->irq_lock);
	on = index < VFU_NUM_IRQ_INDEXES && vector < srv->irq_count[index] &&
	     srv->efds[index][vector] >= 0;
	pthread_mutex_unlock(&srv->irq_lock);
	return on;
}

/* ---- handlers -------------------------------------------------------------------------- */

static int handle_dma_map(struct vfu_server *srv, const u8 *p,
			  struct vfu_fds *fds)
{
	struct vfu_dma_map m;
	struct dma_region *d;
	unsigned int i;
	int fd = fds->nr ? fds->fd[0] : -1;
	int ret = 0;

	memcpy(&m, p, sizeof(m));
	pthread_rwlock_wrlock(&srv->map_lock);
	for (i = 0; i < srv->nr_dma; i++) {
		d = &srv->dma[i];
		if (d->iova == m.addr && d->size == m.size &&
		    d->flags == m.flags)
			goto out;	/* exact duplicate: fine */
		if (m.addr < d->iova + d->size && d->iova < m.addr + m.size) {
			ret = -EEXIST;
			goto out;
		}
	}
	if (srv->nr_dma >= MAX_DMA_REGIONS) {
		ret = -ENOSPC;
		goto out;
	}
	d = &srv->dma[srv->nr_dma];
	memset(d, 0, sizeof(*d));
	d->iova = m.addr;
	d->size = m.size;
	d->flags = m.flags;
	if (fd >= 0 && !srv->opts.refuse_dma_fds) {
		long pg = sysconf(_SC_PAGESIZE);
		u64 off = ALIGN_DOWN(m.offset, (u64)pg);
		struct stat st;
		int prot = (m.flags & VFU_DMA_MAP_F_READ ? PROT_READ : 0) |
			   (m.flags & VFU_DMA_MAP_F_WRITE ? PROT_WRITE : 0);

		if (fstat(fd, &st) || (u64)st.st_size < m.offset + m.size) {
			ret = -EINVAL;
			goto out;
		}
		d->map_len = m.size + (m.offset - off);
		d->map = mmap(NULL, d->map_len, prot ? prot : PROT_NONE,
			      MAP_SHARED, fd, off);
		if (d->map == MAP_FAILED) {
			ret = -errno;
			d->map = NULL;
			goto out;
		}
		d->vaddr = (u8 *)d->map + (m.offset - off);
	}
	srv->nr_dma++;
	if (srv->ops->dma_map)
		srv->ops->dma_map(srv->opts.opaque, d->iova, d->size, d->vaddr,
				  d->flags);
out:
	pthread_rwlock_unlock(&srv->map_lock);
	vfu_fds_close(fds, 0);
	return ret;
}

static int handle_dma_unmap(struct vfu_server *srv, const u8 *p)
{
	struct vfu_dma_unmap u;
	unsigned int i;
	int ret = -ENOENT;

	memcpy(&u, p, sizeof(u));
	pthread_rwlock_wrlock(&srv->map_lock);
	for (i = 0; i < srv->nr_dma; ) {
		struct dma_region *d = &srv->dma[i];

		if ((u.flags & VFU_DMA_UNMAP_F_ALL) ||
		    (d->iova == u.addr && d->size == u.size)) {
			dma_unmap_entry(srv, d);
			srv->dma[i] = srv->dma[--srv->nr_dma];
			ret = 0;
		} else {
			i++;
		}
	}
	if (u.flags & VFU_DMA_UNMAP_F_ALL)
		ret = 0;
	pthread_rwlock_unlock(&srv->map_lock);
	return ret;
}

/* Fill tx_buf with the region info reply; *fd set when one goes along. */
static int handle_region_info(struct vfu_server *srv, const u8 *p,
			      u32 *out_len, int *fd)
{
	struct vfu_region_info req, ri = { 0 };
	struct region *reg;
	u32 caps_size = 0, full, off;

	memcpy(&req, p, sizeof(req));
	*fd = -1;
	if (req.index >= srv->opts.num_regions)
		return -EINVAL;
	reg = &srv->regions[req.index];
	ri.index = req.index;
	if (reg->present) {
		ri.flags = reg->r.flags;
		ri.size = reg->r.size;
		if (reg->r.fd >= 0 && srv->client.max_msg_fds) {
			ri.flags |= VFU_REGION_F_MMAP;
			ri.offset = reg->r.fd_offset;
			caps_size += sizeof(struct vfu_cap_sparse_mmap) +
				     reg->r.nr_areas *
				     sizeof(struct vfu_sparse_area);
		}
		if (reg->r.has_type)
			caps_size += sizeof(struct vfu_cap_type);
	}
	full = sizeof(ri) + caps_size;
	ri.argsz = full;
	memset(srv->tx_buf, 0, MIN(req.argsz, full));
	if (caps_size && req.argsz >= full) {
		/* Everything fits: the chain, and the fd with it. */
		ri.flags |= VFU_REGION_F_CAPS;
		ri.cap_offset = sizeof(ri);
		off = sizeof(ri);
		if (ri.flags & VFU_REGION_F_MMAP) {
			struct vfu_cap_sparse_mmap sm = {
				.header = { VFU_CAP_SPARSE_MMAP, 1, 0 },
				.nr_areas = reg->r.nr_areas,
			};
			u32 sz = sizeof(sm) +
				 reg->r.nr_areas * sizeof(struct vfu_sparse_area);

			if (reg->r.has_type)
				sm.header.next = off + sz;
			memcpy(srv->tx_buf + off, &sm, sizeof(sm));
			memcpy(srv->tx_buf + off + sizeof(sm), reg->areas,
			       reg->r.nr_areas * sizeof(struct vfu_sparse_area));
			off += sz;
			*fd = reg->r.fd;
		}
		if (reg->r.has_type) {
			struct vfu_cap_type ct = {
				.header = { VFU_CAP_TYPE, 1, 0 },
				.type = reg->r.type,
				.subtype = reg->r.subtype,
			};

			memcpy(srv->tx_buf + off, &ct, sizeof(ct));
		}
	}
	memcpy(srv->tx_buf, &ri, sizeof(ri));
	*out_len = MIN(req.argsz, full);
	return 0;
}

static int handle_io_fds(struct vfu_server *srv, const u8 *p, u32 *out_len,
			 int *fds, unsigned int *nr_fds)
{
	struct vfu_io_fds req, head = { 0 };
	unsigned int i, j, count = 0, n = 0;
	u32 off;

	memcpy(&req, p, sizeof(req));
	*nr_fds = 0;
	if (req.index >= srv->opts.num_regions ||
	    !srv->regions[req.index].present)
		return -EINVAL;
	for (i = 0; i < srv->nr_ioeventfds; i++)
		count += srv->ioeventfds[i].region == req.index;
	head.index = req.index;
	head.count = count;
	head.argsz = sizeof(head) + count * sizeof(struct vfu_ioeventfd);
	*out_len = sizeof(head);
	if (count && req.argsz >= head.argsz) {
		off = sizeof(head);
		for (i = 0; i < srv->nr_ioeventfds; i++) {
			struct ioeventfd *e = &srv->ioeventfds[i];
			struct vfu_ioeventfd w = { 0 };

			if (e->region != req.index)
				continue;
			for (j = 0; j < n && fds[j] != e->fd; j++)
				;
			if (j == n) {
				if (n >= srv->client.max_msg_fds)
					return -E2BIG;
				fds[n++] = e->fd;
			}
			w.offset = e->offset;
			w.size = e->size;
			w.fd_index = j;
			w.type = VFU_IO_FD_IOEVENTFD;
			w.flags = e->flags;
			w.datamatch = e->datamatch;
			memcpy(srv->tx_buf + off, &w, sizeof(w));
			off += sizeof(w);
		}
		*out_len = off;
		*nr_fds = n;
	}
	memcpy(srv->tx_buf, &head, sizeof(head));
	return 0;
}

static int handle_set_irqs(struct vfu_server *srv, const u8 *p,
			   struct vfu_fds *fds)
{
	struct vfu_irq_set is;
	u32 data, action, i;
	u64 one = 1;
	int ret = 0;

	memcpy(&is, p, sizeof(is));
	data = is.flags & VFU_IRQ_SET_DATA_MASK;
	action = is.flags & VFU_IRQ_SET_ACTION_MASK_ALL;
	if (is.index >= srv->opts.num_irqs)
		return -EINVAL;
	pthread_mutex_lock(&srv->irq_lock);
	if (is.count == 0) {
		/* Disable everything of this index. */
		if (action != VFU_IRQ_SET_ACTION_TRIGGER ||
		    data == VFU_IRQ_SET_DATA_BOOL) {
			ret = -EINVAL;
			goto out;
		}
		for (i = 0; i < srv->irq_count[is.index]; i++) {
			if (srv->efds[is.index][i] >= 0)
				close(srv->efds[is.index][i]);
			srv->efds[is.index][i] = -1;
		}
		goto out;
	}
	if (is.start + is.count > srv->irq_count[is.index]) {
		ret = -EINVAL;
		goto out;
	}
	if (action != VFU_IRQ_SET_ACTION_TRIGGER) {
		pthread_mutex_unlock(&srv->irq_lock);
		if (srv->ops->irq_state) {
			for (i = 0; i < is.count; i++) {
				if (data == VFU_IRQ_SET_DATA_BOOL &&
				    !p[sizeof(is) + i])
					continue;
				srv->ops->irq_state(srv->opts.opaque, is.index,
						    is.start + i, 1,
						    action == VFU_IRQ_SET_ACTION_MASK);
			}
		}
		return 0;
	}
	for (i = 0; i < is.count; i++) {
		int *slot = &srv->efds[is.index][is.start + i];

		switch (data) {
		case VFU_IRQ_SET_DATA_EVENTFD:
			if (*slot >= 0)
				close(*slot);
			*slot = -1;
			if (fds->nr) {
				*slot = fds->fd[i];
				fds->fd[i] = -1;
			}
			break;
		case VFU_IRQ_SET_DATA_NONE:
			if (*slot >= 0 && write(*slot, &one, sizeof(one)) < 0)
				ret = -errno;
			break;
		case VFU_IRQ_SET_DATA_BOOL:
			if (p[sizeof(is) + i] && *slot >= 0 &&
			    write(*slot, &one, sizeof(one)) < 0)
				ret = -errno;
			break;
		}
	}
out:
	pthread_mutex_unlock(&srv->irq_lock);
	return ret;
}

static int handle_region_access(struct vfu_server *srv, u16 cmd,
				const u8 *p, u32 *out_len)
{
	struct vfu_region_access ra;
	struct region *reg;
	bool write = cmd == VFU_CMD_REGION_WRITE;
	int ret;

	memcpy(&ra, p, sizeof(ra));
	if (ra.region >= srv->opts.num_regions)
		return -EINVAL;
	reg = &srv->regions[ra.region];
	if (!reg->present || ra.offset + ra.count > reg->r.size ||
	    !(reg->r.flags & (write ? VFU_REGION_F_WRITE : VFU_REGION_F_READ)))
		return -EINVAL;
	if (ra.count) {
		if (!reg->r.access)
			return -EINVAL;
		ret = reg->r.access(srv->opts.opaque, ra.region, ra.offset,
				    write ? (void *)(p + sizeof(ra)) :
					    srv->tx_buf + sizeof(ra),
				    ra.count, write);
		if (ret)
			return ret < 0 ? ret : -EIO;
	}
	memcpy(srv->tx_buf, &ra, sizeof(ra));
	*out_len = sizeof(ra) + (write ? 0 : ra.count);
	return 0;
}

/* Handle one validated-or-not command; fds are consumed or closed. */
static int handle_command(struct vfu_server *srv, const struct vfu_hdr *h,
			  const u8 *p, u32 len, struct vfu_fds *fds)
{
	char why[200];
	int out_fds[VFU_MAX_MSG_FDS_ANNOUNCE + 1];
	unsigned int nr_out = 0, twin_sent = 0;
	u32 out_len = 0;
	int ret, fd;

	if (h->flags & VFU_F_NO_REPLY)
		__atomic_fetch_add(&srv->nr_no_reply, 1, __ATOMIC_RELAXED);
	ret = vfu_validate_command(h, p, len, fds->nr,
				   srv->opts.max_data_xfer_size, why,
				   sizeof(why));
	if (ret) {
		slog(srv, LOG_WARN, "%s id %u: %s", vfu_cmd_name(h->cmd),
		     h->msg_id, why);
		if (h->cmd == VFU_CMD_VERSION)
			snprintf(srv->version_why, sizeof(srv->version_why),
				 "%s", why);
		vfu_fds_close(fds, 0);
		return send_reply(srv, h, ret, NULL, 0, NULL, 0);
	}
	switch (h->cmd) {
	case VFU_CMD_VERSION:
		ret = handle_version(srv, p, len, &out_len, out_fds, &nr_out);
		twin_sent = nr_out;	/* the client's end, ours to close */
		break;
	case VFU_CMD_DMA_MAP:
		ret = handle_dma_map(srv, p, fds);
		break;
	case VFU_CMD_DMA_UNMAP:
		ret = handle_dma_unmap(srv, p);
		if (!ret) {
			memcpy(srv->tx_buf, p, sizeof(struct vfu_dma_unmap));
			out_len = sizeof(struct vfu_dma_unmap);
		}
		break;
	case VFU_CMD_DEVICE_GET_INFO: {
		struct vfu_device_info di = {
			.argsz = sizeof(di),
			.flags = srv->opts.device_flags,
			.num_regions = srv->opts.num_regions,
			.num_irqs = srv->opts.num_irqs,
		};

		memcpy(srv->tx_buf, &di, sizeof(di));
		out_len = sizeof(di);
		break;
	}
	case VFU_CMD_DEVICE_GET_REGION_INFO:
		ret = handle_region_info(srv, p, &out_len, &fd);
		if (!ret && fd >= 0)
			out_fds[nr_out++] = fd;
		break;
	case VFU_CMD_DEVICE_GET_REGION_IO_FDS:
		ret = handle_io_fds(srv, p, &out_len, out_fds, &nr_out);
		break;
	case VFU_CMD_DEVICE_GET_IRQ_INFO: {
		struct vfu_irq_info ii;

		memcpy(&ii, p, sizeof(ii));
		if (ii.index >= srv->opts.num_irqs) {
			ret = -EINVAL;
			break;
		}
		ii.argsz = sizeof(ii);
		ii.flags = VFU_IRQ_INFO_F_EVENTFD |
			   (srv->ops->irq_state ? VFU_IRQ_INFO_F_MASKABLE : 0);
		ii.count = srv->irq_count[ii.index];
		memcpy(srv->tx_buf, &ii, sizeof(ii));
		out_len = sizeof(ii);
		break;
	}
	case VFU_CMD_DEVICE_SET_IRQS:
		ret = handle_set_irqs(srv, p, fds);
		break;
	case VFU_CMD_REGION_READ:
	case VFU_CMD_REGION_WRITE:
		ret = handle_region_access(srv, h->cmd, p, &out_len);
		break;
	case VFU_CMD_DEVICE_RESET:
		ret = srv->ops->reset ? srv->ops->reset(srv->opts.opaque) : 0;
		break;
	default:
		ret = -ENOSYS;
		break;
	}
	vfu_fds_close(fds, 0);
	if (ret)
		slog_debug(srv, "%s id %u: %s", vfu_cmd_name(h->cmd), h->msg_id,
			   strerror(-ret));
	ret = send_reply(srv, h, ret, srv->tx_buf, out_len, out_fds, nr_out);
	if (twin_sent)
		close(out_fds[0]);
	return ret;
}

/* ---- the loop ------------------------------------------------------------------------------ */

/*
 * One whole command into rx_buf and rx_fds: 0, -EAGAIN (nothing yet),
 * -ECONNRESET (the client left), or another negative errno with why
 * filled: the stream is lost. Nothing is left open on failure.
 */
static int recv_command(struct vfu_server *srv, struct vfu_hdr *h, u32 *len,
			char *why, size_t why_len)
{
	int ret;

	vfu_fds_init(srv->rx_fds);
	ret = vfu_transport_recv_hdr(&srv->t, h, srv->rx_limit, srv->rx_fds,
				     why, why_len);
	if (ret == -EAGAIN || ret == -ECONNRESET)
		goto fail;
	if (ret) {
		/* Answer what we can, then drop. */
		if (ret == -EPROTO && h->size >= VFU_HDR_SIZE &&
		    vfu_hdr_type(h) == VFU_F_TYPE_COMMAND)
			send_reply(srv, h, -EINVAL, NULL, 0, NULL, 0);
		goto fail;
	}
	*len = h->size - VFU_HDR_SIZE;
	ret = vfu_transport_recv_body(&srv->t, srv->rx_buf, *len,
				      srv->rx_fds);
	if (ret) {
		snprintf(why, why_len, "%s id %u: payload: %s",
			 vfu_cmd_name(h->cmd), h->msg_id, strerror(-ret));
		goto fail;
	}
	if (vfu_hdr_type(h) != VFU_F_TYPE_COMMAND) {
		ret = -EPROTO;
		snprintf(why, why_len, "unexpected reply id %u", h->msg_id);
		goto fail;
	}
	return 0;
fail:
	vfu_fds_close(srv->rx_fds, 0);
	return ret;
}

/* Returns 0, 1 when the client left, or a negative errno (drop it). */
static int process_one(struct vfu_server *srv)
{
	struct vfu_hdr h;
	char why[200] = "";
	u32 len;
	int ret;

	ret = recv_command(srv, &h, &len, why, sizeof(why));
	if (ret == -EAGAIN)
		return 0;
	if (ret == -ECONNRESET) {
		pthread_mutex_lock(&srv->stop_lock);
		ret = srv->stop ? 0 : 1;	/* stop: the loop says why */
		pthread_mutex_unlock(&srv->stop_lock);
		return ret;
	}
	if (ret) {
		slog(srv, LOG_ERR, "dropping the client: %s", why[0] ? why :
		     strerror(-ret));
		return ret;
	}
	if (phase_enabled)
		srv->phase_rx = phase_now();
	ret = handle_command(srv, &h, srv->rx_buf, len, srv->rx_fds);
	return ret ? ret : 0;
}

static int process_stash(struct vfu_server *srv)
{
	struct stashed *st;
	int ret = 0;

	while (!ret && (st = srv->stash_head)) {
		srv->stash_head = st->next;
		if (!srv->stash_head)
			srv->stash_tail = NULL;
		srv->nr_stashed--;
		ret = handle_command(srv, &st->hdr, st->payload, st->len,
				     st->fds);
		vfu_fds_close(st->fds, 0);
		free(st->fds);
		free(st);
	}
	return ret;
}

/* opts.poll_us: look at the socket (and the kick) before sleeping. */
static void poll_busy(struct vfu_server *srv)
{
	struct pollfd pfd[2] = {
		{ .fd = srv->t.fd, .events = POLLIN },
		{ .fd = srv->kick_fd, .events = POLLIN },
	};

	if (srv->opts.poll_us)
		vfu_poll_busy(pfd, srv->ops->work ? 2 : 1, srv->opts.poll_us);
}

int vfu_server_run(struct vfu_server *srv)
{
	struct pollfd pfd[2];
	bool buffered;
	u64 v;
	int ret = 0;

	if (!srv->connected)
		return -ENOTCONN;
	srv->loop_thread = pthread_self();
	srv->in_loop = true;
	for (;;) {
		ret = process_stash(srv);
		if (ret)
			break;
		pthread_mutex_lock(&srv->stop_lock);
		if (srv->stop) {
			srv->stop = false;
			pthread_mutex_unlock(&srv->stop_lock);
			ret = -ECANCELED;
			break;
		}
		pthread_mutex_unlock(&srv->stop_lock);
		if (!srv->ops->work) {
			/*
			 * Nothing to kick: block in the socket read itself,
			 * one system call less per message than poll() +
			 * read. vfu_server_stop() shuts the read side down.
			 */
			if (!vfu_transport_rx_pending(&srv->t))
				poll_busy(srv);
			ret = process_one(srv);
			if (ret)
				break;
			continue;
		}
		/*
		 * A message may wait in the receive buffer (read along with
		 * the one before, or by work's DMA exchange), where poll()
		 * does not see it: then only look at the kick.
		 */
		buffered = vfu_transport_rx_pending(&srv->t);
		if (!buffered)
			poll_busy(srv);
		pfd[0] = (struct pollfd){ .fd = srv->t.fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = srv->kick_fd, .events = POLLIN };
		if (poll(pfd, 2, buffered ? 0 : -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			if (read(srv->kick_fd, &v, sizeof(v)) == sizeof(v) &&
			    srv->ops->work)
				srv->ops->work(srv->opts.opaque);
			/*
			 * Poll again: work's DMA messages on the main socket
			 * may have read (and stashed) what made pfd[0]
			 * readable, and a read now would block on an empty
			 * socket while the stash waits.
			 */
			continue;
		}
		if (buffered || pfd[0].revents) {
			ret = process_one(srv);
			if (ret)
				break;
		}
	}
	srv->in_loop = false;
	disconnect(srv);
	return ret == 1 ? 0 : ret;
}

int vfu_server_kick(struct vfu_server *srv)
{
	u64 one = 1;

	if (write(srv->kick_fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

void vfu_server_stop(struct vfu_server *srv)
{
	pthread_mutex_lock(&srv->stop_lock);
	srv->stop = true;
	pthread_mutex_unlock(&srv->stop_lock);
	vfu_server_kick(srv);
	/* A loop without ops->work sleeps in the socket read. */
	pthread_mutex_lock(&srv->dma_lock);
	if (srv->connected && !srv->ops->work && srv->t.fd >= 0)
		shutdown(srv->t.fd, SHUT_RD);
	pthread_mutex_unlock(&srv->dma_lock);
}
