// SPDX-License-Identifier: MIT
/*
 * vfio-user client: the proxy for one device server. See client.h for
 * the model; the locking rules are here.
 *
 * Locks, in the order they nest:
 *   c->lock     state, err, reason, reader_busy, pending list, free list,
 *               next_id, nr_active, rx thread parking.
 *   slot->lock  slot->state, result, lead, and the caller's reply
 *               buffers while a reply is copied in. state turns
 *               SLOT_DONE last (release order, slot_finish_locked()),
 *               so the slot's owner reads state, result and its reply
 *               without the lock once it sees SLOT_DONE (slot_done()).
 *   c->map_lock the DMA map table (leaf).
 *   c->work_lock the server-request queue (leaf).
 *   c->send_lock one sender on the main socket at a time; taken with no
 *               other lock held.
 * Nobody holds c->lock or a slot lock across a socket call. Only the
 * holder of the reader role (reader_busy) reads the main socket; only the
 * worker reads and writes the twin socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/phase.h"
#include "vfio-user/client.h"

#define clog(c, lvl, ...) log_msg(lvl, (c)->name, __VA_ARGS__)
#define clog_trace(c, ...)                                               \
	do {                                                             \
		if (log_get_level() >= LOG_TRACE)                        \
			log_msg(LOG_TRACE, (c)->name, __VA_ARGS__);      \
	} while (0)

/* While waiters come and go, the receive thread re-checks this often. */
#define RX_PARK_NS		(2 * 1000 * 1000)
/* Server requests read on the main socket, waiting for the worker. */
#define MAX_QUEUED_REQUESTS	16
#define MAX_DMA_MAPS		1024
#define RX_LIMIT		(VFU_HDR_SIZE + VFU_CLIENT_MAX_DATA_XFER + \
				 VFU_MSG_SLACK)
#define VERSION_REPLY_LIMIT	(VFU_HDR_SIZE + 64 * 1024)

enum slot_state { SLOT_WAITING, SLOT_DONE };

struct slot {
	struct slot *next, *prev;	/* c->pending or c->free (next only) */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum slot_state state;
	bool lead;		/* offered the reader role */
	int result;
	struct vfu_hdr hdr;	/* the request's header */
	const void *req;	/* request fixed part, for validation */
	u32 req_len;
	struct vfu_client_msg *msg;
	u64 deadline_ns;
};

struct work {
	struct work *next;
	struct vfu_hdr hdr;
	u32 len;
	unsigned int nr_fds;
	u8 payload[];
};

struct dma_range {
	u64 addr, size;
	u32 flags;
};

struct vfu_client {
	char name[64];
	/* Cleared for good when the server answers a NO_REPLY write. */
	bool no_post;
	struct vfu_transport t;
	struct vfu_transport twin;
	bool has_twin;
	u32 timeout_ms, reset_timeout_ms;
	u32 poll_us;
	const struct vfu_client_dma_ops *dma_ops;
	void *dma_opaque;
	void (*on_dead)(void *opaque, int err, const char *reason);
	void *dead_opaque;
	bool quiet_death;
	bool negotiating;	/* on_dead is not told before it ends */

	/* Fixed after VERSION. */
	struct vfu_caps server_caps;
	u16 server_major, server_minor;
	u32 xfer_max;		/* min(server's, ours) */
	u32 send_fds_max;	/* min(server's max_msg_fds, SCM_MAX_FD) */

	pthread_mutex_t lock;
	enum vfu_client_state state;
	int err;
	char reason[256];
	bool reader_busy;
	struct slot *pending;	/* doubly linked, oldest first */
	struct slot *pending_tail;
	struct slot *free;
	u16 next_id;
	/* Ids of posted writes: a reply to one is dropped, not fatal. */
	u64 posted_ids[65536 / 64];
	unsigned int nr_active;
	pthread_cond_t rx_cond;		/* rx thread parks on it */
	pthread_cond_t idle_cond;	/* close waits for nr_active == 0 */

	pthread_mutex_t send_lock;

	/* Reader role only. */
	u8 *rx_buf;
	struct vfu_fds rx_fds;

	pthread_mutex_t map_lock;
	struct dma_range maps[MAX_DMA_MAPS];
	unsigned int nr_maps;

	pthread_mutex_t work_lock;
	pthread_cond_t work_cond;
	struct work *work_head, *work_tail;
	unsigned int nr_work;
	bool work_stop;

	/* Worker only. */
	u8 *wbuf;		/* twin receive buffer */
	u8 *wreply;		/* DMA_READ reply data */
	struct vfu_fds wfds;

	pthread_t rx_thread, worker;
	bool rx_started, worker_started;
};

static struct timespec ns_to_ts(u64 ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000ull,
		.tv_nsec = ns % 1000000000ull,
	};

	return ts;
}

static int cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int ret;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	ret = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return -ret;
}

/* With s->lock held: the request's outcome; the owner may look now. */
static void slot_finish_locked(struct slot *s, int result)
{
	s->result = result;
	__atomic_store_n(&s->state, SLOT_DONE, __ATOMIC_RELEASE);
	pthread_cond_signal(&s->cond);
}

/* The owner: whether its slot is done, without the lock. */
static bool slot_done(struct slot *s)
{
	return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != SLOT_WAITING;
}

/* ---- failure ------------------------------------------------------------- */

/* Fail every waiting request with err and wake the waiting readers. */
static void fail_waiters_locked(struct vfu_client *c, int err)
{
	struct slot *s;

	for (s = c->pending; s; s = s->next) {
		pthread_mutex_lock(&s->lock);
		if (s->state == SLOT_WAITING)
			slot_finish_locked(s, err);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_cond_broadcast(&c->rx_cond);
}

/*
 * Shut the sockets so a thread blocked reading them returns, and wake the
 * DMA worker (telling it to stop when stop_worker).
 */
static void wake_everyone(struct vfu_client *c, bool stop_worker)
{
	vfu_transport_shutdown(&c->t);
	if (c->has_twin)
		vfu_transport_shutdown(&c->twin);
	pthread_mutex_lock(&c->work_lock);
	if (stop_worker)
		c->work_stop = true;
	pthread_cond_broadcast(&c->work_cond);
	pthread_mutex_unlock(&c->work_lock);
}

/*
 * Move the connection to ERROR (once): record why, fail every waiter,
 * shut the sockets so blocked readers wake, tell the owner.
 */
static void __attribute__((format(printf, 3, 4)))
conn_fail(struct vfu_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	if (c->state != VFU_CLIENT_CONNECTED) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->state = VFU_CLIENT_ERROR;
	c->err = err;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	fail_waiters_locked(c, err);
	pthread_mutex_unlock(&c->lock);
	wake_everyone(c, false);

	/* During VERSION, negotiate() reports it, with its context. */
	clog(c, c->negotiating ? LOG_DEBUG :
		c->quiet_death ? LOG_INFO : LOG_ERR,
	     "connection failed: %s (%s)", c->reason, strerror(-err));
	if (c->on_dead)
		c->on_dead(c->dead_opaque, err, c->reason);
}

/* ---- posted writes' ids ---------------------------------------------------- */

/* With c->lock held: whether id was a posted write's; forgets it. */
static bool posted_id_clear_locked(struct vfu_client *c, u16 id)
{
	u64 bit = 1ull << (id % 64);
	bool was = c->posted_ids[id / 64] & bit;

	c->posted_ids[id / 64] &= ~bit;
	return was;
}

/*
 * A reply to a posted write (reader role, c->lock held, unlocked here):
 * the server ignores NO_REPLY. Drop it and post no more.
 */
static void drop_posted_reply_locked(struct vfu_client *c,
				     const struct vfu_hdr *hdr)
{
	bool first = !__atomic_exchange_n(&c->no_post, true, __ATOMIC_RELAXED);

	pthread_mutex_unlock(&c->lock);
	vfu_fds_close(&c->rx_fds, 0);
	if (first)
		clog(c, LOG_WARN,
		     "server replied to posted (NO_REPLY) REGION_WRITE id %u: reply dropped, BAR writes wait for their replies from now on",
		     hdr->msg_id);
	else
		clog_trace(c, "reply to posted REGION_WRITE id %u dropped",
			   hdr->msg_id);
}

/* ---- delivering what the reader got --------------------------------------- */

static struct slot *find_pending(struct vfu_client *c, u16 id)
{
	struct slot *s;

	for (s = c->pending; s; s = s->next)
		if (s->hdr.msg_id == id && s->state == SLOT_WAITING)
			return s;
	return NULL;
}

/* Copy a validated reply payload into the caller's iovs. */
static int copy_to_riov(struct vfu_client_msg *m, const u8 *p, u32 len)
{
	u32 done = 0;
	int i;

	for (i = 0; i < m->riovcnt && done < len; i++) {
		u32 n = MIN(len - done, (u32)m->riov[i].iov_len);

		memcpy(m->riov[i].iov_base, p + done, n);
		done += n;
	}
	return done == len ? 0 : -EMSGSIZE;
}

/*
 * self: the reader's own slot, or NULL. Its own reply, the common case,
 * needs no search: the slot stays on the pending list until its owner,
 * the caller, takes it off.
 */
static int deliver_reply(struct vfu_client *c, struct slot *self,
			 const struct vfu_hdr *hdr, u32 len)
{
	struct vfu_fds *fds = &c->rx_fds;
	struct vfu_client_msg *m;
	char why[200];
	struct slot *s;
	unsigned int i, n;
	int ret;

	if (self && self->hdr.msg_id == hdr->msg_id) {
		s = self;
		pthread_mutex_lock(&s->lock);
	} else {
		pthread_mutex_lock(&c->lock);
		s = find_pending(c, hdr->msg_id);
		if (!s && hdr->cmd == VFU_CMD_REGION_WRITE &&
		    posted_id_clear_locked(c, hdr->msg_id)) {
			drop_posted_reply_locked(c, hdr);
			return 0;
		}
		if (!s) {
			pthread_mutex_unlock(&c->lock);
			vfu_fds_close(fds, 0);
			conn_fail(c, -EPROTO,
				  "reply id %u (%s, %u bytes) matches no request",
				  hdr->msg_id, vfu_cmd_name(hdr->cmd),
				  hdr->size);
			return -EPROTO;
		}
		pthread_mutex_lock(&s->lock);
		pthread_mutex_unlock(&c->lock);
	}
	if (s->state != SLOT_WAITING) {
		pthread_mutex_unlock(&s->lock);
		vfu_fds_close(fds, 0);
		return 0;
	}
	ret = vfu_validate_reply(&s->hdr, s->req, s->req_len, hdr, c->rx_buf,
				 len, fds->nr, why, sizeof(why));
	if (ret) {
		slot_finish_locked(s, ret);
		pthread_mutex_unlock(&s->lock);
		vfu_fds_close(fds, 0);
		conn_fail(c, ret, "%s id %u: %s", vfu_cmd_name(hdr->cmd),
			  hdr->msg_id, why);
		return ret;
	}
	m = s->msg;
	m->reply_len = len;
	if (hdr->flags & VFU_F_ERROR) {
		ret = vfu_reply_errno(hdr);
		vfu_fds_close(fds, 0);
	} else {
		ret = copy_to_riov(m, c->rx_buf, len);
		n = MIN(fds->nr, m->max_reply_fds);
		for (i = 0; i < n; i++)
			m->reply_fds[i] = fds->fd[i];
		m->nr_reply_fds = n;
		if (fds->nr > n) {
			clog(c, LOG_WARN, "%s id %u: %u unexpected fds closed",
			     vfu_cmd_name(hdr->cmd), hdr->msg_id, fds->nr - n);
			vfu_fds_close(fds, n);
		}
		fds->nr = 0;
	}
	slot_finish_locked(s, ret);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int queue_server_request(struct vfu_client *c,
				const struct vfu_hdr *hdr, u32 len)
{
	struct work *w;

	if (c->has_twin) {
		conn_fail(c, -EPROTO,
			  "server request %s id %u on the main socket while the twin socket is in use",
			  vfu_cmd_name(hdr->cmd), hdr->msg_id);
		return -EPROTO;
	}
	w = malloc(sizeof(*w) + len);
	if (!w) {
		conn_fail(c, -ENOMEM, "no memory for a server request");
		return -ENOMEM;
	}
	w->next = NULL;
	w->hdr = *hdr;
	w->len = len;
	w->nr_fds = c->rx_fds.nr;
	memcpy(w->payload, c->rx_buf, len);
	vfu_fds_close(&c->rx_fds, 0);	/* server requests never carry fds */

	pthread_mutex_lock(&c->work_lock);
	if (c->nr_work >= MAX_QUEUED_REQUESTS) {
		pthread_mutex_unlock(&c->work_lock);
		free(w);
		conn_fail(c, -EPROTO, "more than %d server requests queued",
			  MAX_QUEUED_REQUESTS);
		return -EPROTO;
	}
	if (c->work_tail)
		c->work_tail->next = w;
	else
		c->work_head = w;
	c->work_tail = w;
	c->nr_work++;
	pthread_cond_signal(&c->work_cond);
	pthread_mutex_unlock(&c->work_lock);
	return 0;
}

/*
 * Read one message from the main socket (the caller holds the reader
 * role; self is its slot or NULL) and hand it on. Returns 0, -EAGAIN
 * when nothing came within the socket timeout, or the error that killed
 * the connection.
 */
static int read_one(struct vfu_client *c, struct slot *self)
{
	struct vfu_hdr hdr;
	char why[160] = "";
	u32 len;
	int ret;

	/*
	 * A waiter reads no longer than its own reply may take, even from
	 * a server that trickles a message byte by byte; the receive
	 * thread, waiting for nobody, has no such limit.
	 */
	c->t.deadline_ns = self ? self->deadline_ns : 0;
	vfu_fds_init(&c->rx_fds);
	ret = vfu_transport_recv_hdr(&c->t, &hdr, RX_LIMIT, &c->rx_fds, why,
				     sizeof(why));
	if (ret == -EAGAIN)
		return ret;
	if (ret) {
		vfu_fds_close(&c->rx_fds, 0);
		conn_fail(c, ret == -EPROTO ? -EPROTO : ret, "%s", why);
		return ret;
	}
	len = hdr.size - VFU_HDR_SIZE;
	ret = vfu_transport_recv_body(&c->t, c->rx_buf, len, &c->rx_fds);
	if (ret) {
		vfu_fds_close(&c->rx_fds, 0);
		conn_fail(c, ret, "%s id %u: payload of %u bytes: %s",
			  vfu_cmd_name(hdr.cmd), hdr.msg_id, len,
			  ret == -EPROTO ? "truncated" : strerror(-ret));
		return ret;
	}
	if (vfu_hdr_type(&hdr) == VFU_F_TYPE_COMMAND)
		return queue_server_request(c, &hdr, len);
	return deliver_reply(c, self, &hdr, len);
}

/* With c->lock held: if nobody reads, wake one sleeping waiter to. */
static void offer_reader_locked(struct vfu_client *c, struct slot *self)
{
	struct slot *s;

	if (c->reader_busy || c->state != VFU_CLIENT_CONNECTED)
		return;
	for (s = c->pending; s; s = s->next) {
		if (s == self)
			continue;
		pthread_mutex_lock(&s->lock);
		if (s->state == SLOT_WAITING) {
			s->lead = true;
			pthread_cond_signal(&s->cond);
			pthread_mutex_unlock(&s->lock);
			return;
		}
		pthread_mutex_unlock(&s->lock);
	}
	/* Nobody waits: the receive thread takes over once idle. */
}

/*
 * poll_us: look at the socket without sleeping until something is there
 * or the time is up, so that a quick reply finds this thread awake.
 */
static void poll_busy(struct vfu_client *c)
{
	struct pollfd pfd = { .fd = c->t.fd, .events = POLLIN };

	if (c->poll_us && !vfu_transport_rx_pending(&c->t))
		vfu_poll_busy(&pfd, 1, c->poll_us);
}

/* The fast path: read the socket for everyone until our reply is in. */
static void lead(struct vfu_client *c, struct slot *s)
{
	int ret;

	while (!slot_done(s)) {
		poll_busy(c);
		ret = read_one(c, s);
		if (ret && ret != -EAGAIN)
			return;
		/*
		 * Not only when the socket falls silent: a server that keeps
		 * sending other messages (DMA requests) but never our reply
		 * must time out too.
		 */
		if (slot_done(s) || mono_ns() < s->deadline_ns)
			continue;
		conn_fail(c, -ETIMEDOUT, "no reply to %s id %u within %llu ms",
			  vfu_cmd_name(s->hdr.cmd), s->hdr.msg_id,
			  (unsigned long long)(s->msg->timeout_ms ?
					       s->msg->timeout_ms :
					       c->timeout_ms));
		return;
	}
}

/*
 * Until the slot is done. Returns true when the caller holds the reader
 * role, which slot_put() gives up.
 */
static bool wait_reply(struct vfu_client *c, struct slot *s, u32 timeout_ms)
{
	bool leader, offered, done, timed_out;

	for (;;) {
		pthread_mutex_lock(&c->lock);
		leader = !c->reader_busy && c->state == VFU_CLIENT_CONNECTED;
		if (leader)
			c->reader_busy = true;
		pthread_mutex_unlock(&c->lock);
		if (leader) {
			lead(c, s);
			return true;
		}

		timed_out = false;
		pthread_mutex_lock(&s->lock);
		while (s->state == SLOT_WAITING && !s->lead) {
			struct timespec ts = ns_to_ts(s->deadline_ns);

			if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) ==
			    ETIMEDOUT) {
				timed_out = true;
				break;
			}
		}
		offered = s->lead;
		s->lead = false;
		done = s->state != SLOT_WAITING;
		pthread_mutex_unlock(&s->lock);
		if (done) {
			/* Pass on an offer we no longer need. */
			if (offered) {
				pthread_mutex_lock(&c->lock);
				offer_reader_locked(c, s);
				pthread_mutex_unlock(&c->lock);
			}
			return false;
		}
		if (timed_out) {
			conn_fail(c, -ETIMEDOUT,
				  "no reply to %s id %u within %u ms",
				  vfu_cmd_name(s->hdr.cmd), s->hdr.msg_id,
				  timeout_ms);
			return false;
		}
	}
}

/* ---- slots and the request path ------------------------------------------- */

static struct slot *slot_get(struct vfu_client *c, struct vfu_client_msg *m,
			     u32 payload_len, u64 deadline_ns, int *err)
{
	struct slot *s;

	pthread_mutex_lock(&c->lock);
	if (c->state != VFU_CLIENT_CONNECTED) {
		*err = c->err ? c->err : -ESHUTDOWN;
		pthread_mutex_unlock(&c->lock);
		return NULL;
	}
	s = c->free;
	if (s) {
		c->free = s->next;
	} else {
		s = calloc(1, sizeof(*s));
		if (!s || pthread_mutex_init(&s->lock, NULL) ||
		    cond_init_monotonic(&s->cond)) {
			free(s);
			pthread_mutex_unlock(&c->lock);
			*err = -ENOMEM;
			return NULL;
		}
	}
	posted_id_clear_locked(c, c->next_id);
	vfu_hdr_init(&s->hdr, c->next_id++, m->cmd, payload_len,
		     VFU_F_TYPE_COMMAND);
	s->req = m->iovcnt ? m->iov[0].iov_base : NULL;
	s->req_len = m->iovcnt ? (u32)m->iov[0].iov_len : 0;
	s->msg = m;
	s->deadline_ns = deadline_ns;
	s->state = SLOT_WAITING;
	s->lead = false;
	s->result = 0;
	s->next = NULL;
	s->prev = c->pending_tail;
	if (c->pending_tail)
		c->pending_tail->next = s;
	else
		c->pending = s;
	c->pending_tail = s;
	c->nr_active++;
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* Off the pending list; reader: give up the reader role too. */
static void slot_put(struct vfu_client *c, struct slot *s, bool reader)
{
	pthread_mutex_lock(&c->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		c->pending = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		c->pending_tail = s->prev;
	s->prev = NULL;
	s->msg = NULL;
	s->req = NULL;
	s->next = c->free;
	c->free = s;
	if (reader) {
		c->reader_busy = false;
		offer_reader_locked(c, NULL);	/* to a sleeping waiter */
	}
	c->nr_active--;
	if (!c->nr_active && c->state == VFU_CLIENT_CLOSING)
		pthread_cond_broadcast(&c->idle_cond);
	pthread_mutex_unlock(&c->lock);
}

/*
 * What a REGION_READ/WRITE was about, for the -vv trace: region, offset,
 * length and, for accesses of up to 8 bytes, the value (little-endian, as
 * on the wire; a read's only when it succeeded).
 */
static void trace_region_access(const struct vfu_client_msg *m, int ret,
				char *buf, size_t len)
{
	const struct vfu_region_access *ra;
	const struct iovec *data;
	u64 val = 0;

	buf[0] = '\0';
	if ((m->cmd != VFU_CMD_REGION_READ && m->cmd != VFU_CMD_REGION_WRITE) ||
	    m->iovcnt < 1 || m->iov[0].iov_len < sizeof(*ra))
		return;
	ra = m->iov[0].iov_base;
	data = m->cmd == VFU_CMD_REGION_WRITE ?
	       (m->iovcnt > 1 ? &m->iov[1] : NULL) :
	       (m->riovcnt > 1 && !ret ? &m->riov[1] : NULL);
	if (data && ra->count <= 8 && data->iov_len >= ra->count) {
		memcpy(&val, data->iov_base, ra->count);
		snprintf(buf, len, " region %u offset %#llx len %u value %#llx",
			 ra->region, (unsigned long long)ra->offset, ra->count,
			 (unsigned long long)val);
	} else {
		snprintf(buf, len, " region %u offset %#llx len %u", ra->region,
			 (unsigned long long)ra->offset, ra->count);
	}
}

/* make bench's phases: this thread's request, for the vCPU to record. */
static void phase_mark(u16 id, const struct vfu_client_msg *m, u64 sent,
		       u64 reply)
{
	struct vfu_region_access ra = { 0 };

	if ((m->cmd == VFU_CMD_REGION_READ || m->cmd == VFU_CMD_REGION_WRITE) &&
	    m->iovcnt && m->iov[0].iov_len >= sizeof(ra))
		memcpy(&ra, m->iov[0].iov_base, sizeof(ra));
	phase_cur.id = id;
	phase_cur.cmd = m->cmd;
	phase_cur.region = ra.region;
	phase_cur.sent = sent;
	phase_cur.reply = reply;
	phase_cur.set = true;
}

int vfu_client_request(struct vfu_client *c, struct vfu_client_msg *m)
{
	char detail[96];
	u32 timeout = m->timeout_ms ? m->timeout_ms : c->timeout_ms;
	u64 payload = 0, start = mono_ns(), sent;
	bool reader = false;
	struct slot *s;
	int i, ret = 0;

	for (i = 0; i < m->iovcnt; i++)
		payload += m->iov[i].iov_len;
	if (m->iovcnt < 0 || m->iovcnt > 4 || payload > RX_LIMIT)
		return -EINVAL;
	if (m->nr_fds > c->send_fds_max)
		return c->send_fds_max ? -EINVAL : -EOPNOTSUPP;
	m->reply_len = 0;
	m->nr_reply_fds = 0;

	s = slot_get(c, m, (u32)payload, start + (u64)timeout * 1000000ull,
		     &ret);
	if (!s)
		return ret;

	pthread_mutex_lock(&c->send_lock);
	/* The server may have it before send() returns: stamp before. */
	sent = phase_enabled ? phase_now() : 0;
	ret = vfu_transport_send(&c->t, &s->hdr, m->iov, m->iovcnt, m->fds,
				 m->nr_fds);
	pthread_mutex_unlock(&c->send_lock);
	if (ret) {
		conn_fail(c, ret, "sending %s id %u: %s", vfu_cmd_name(m->cmd),
			  s->hdr.msg_id, strerror(-ret));
	} else {
		reader = wait_reply(c, s, timeout);
		if (phase_enabled)
			phase_mark(s->hdr.msg_id, m, sent, phase_now());
	}

	/*
	 * Done now: by a reader, or by whoever failed the connection while
	 * the slot was pending. A slot still waiting here would be a bug;
	 * never report it as success.
	 */
	ret = slot_done(s) ? s->result : -EPROTO;
	if (log_get_level() >= LOG_TRACE)
		trace_region_access(m, ret, detail, sizeof(detail));
	clog_trace(c, "%s id %u size %u%s -> reply %u fds %u result %d, %.1f us",
		   vfu_cmd_name(m->cmd), s->hdr.msg_id, s->hdr.size,
		   log_get_level() >= LOG_TRACE ? detail : "",
		   m->reply_len, m->nr_reply_fds, ret,
		   (double)(mono_ns() - start) / 1000.0);
	slot_put(c, s, reader);
	if (ret) {
		/* Nothing handed over on failure. */
		for (i = 0; i < (int)m->nr_reply_fds; i++)
			close(m->reply_fds[i]);
		m->nr_reply_fds = 0;
	}
	return ret;
}

/* ---- server requests: the worker ------------------------------------------- */

static bool stopping(struct vfu_client *c)
{
	bool stop;

	pthread_mutex_lock(&c->lock);
	stop = c->state != VFU_CLIENT_CONNECTED;
	pthread_mutex_unlock(&c->lock);
	return stop;
}

static int check_dma_range(struct vfu_client *c, u64 addr, u64 count,
			   bool write)
{
	unsigned int i;
	int ret = -EFAULT;

	pthread_mutex_lock(&c->map_lock);
	for (i = 0; i < c->nr_maps; i++) {
		struct dma_range *r = &c->maps[i];

		if (addr < r->addr || addr - r->addr >= r->size ||
		    count > r->size - (addr - r->addr))
			continue;
		if (!(r->flags & (write ? VFU_DMA_MAP_F_WRITE :
					  VFU_DMA_MAP_F_READ)))
			ret = -EPERM;
		else
			ret = 0;
		break;
	}
	pthread_mutex_unlock(&c->map_lock);
	return ret;
}

static void serve_request(struct vfu_client *c, struct vfu_transport *t,
			  bool main_socket, const struct vfu_hdr *hdr,
			  const u8 *p, u32 len, unsigned int nr_fds)
{
	struct vfu_dma_access da;
	struct vfu_hdr rh;
	struct iovec iov[2];
	char why[160];
	int iovcnt = 0, ret;
	bool write = hdr->cmd == VFU_CMD_DMA_WRITE;

	ret = vfu_validate_server_request(hdr, p, len, nr_fds,
					  VFU_CLIENT_MAX_DATA_XFER, why,
					  sizeof(why));
	if (ret) {
		clog(c, LOG_WARN, "server request id %u: %s", hdr->msg_id, why);
	} else {
		memcpy(&da, p, sizeof(da));
		ret = check_dma_range(c, da.addr, da.count, write);
		if (!ret && !c->dma_ops)
			ret = -EFAULT;
		if (!ret && !write && !c->wreply) {
			c->wreply = malloc(VFU_CLIENT_MAX_DATA_XFER);
			if (!c->wreply)
				ret = -ENOMEM;
		}
		if (!ret)
			ret = write ? c->dma_ops->write(c->dma_opaque, da.addr,
							p + sizeof(da), da.count) :
				      c->dma_ops->read(c->dma_opaque, da.addr,
						       c->wreply, da.count);
		if (ret)
			clog(c, LOG_WARN, "server %s id %u 0x%llx+%llu: %s",
			     vfu_cmd_name(hdr->cmd), hdr->msg_id,
			     (unsigned long long)da.addr,
			     (unsigned long long)da.count, strerror(-ret));
	}
	if (hdr->flags & VFU_F_NO_REPLY)
		return;
	if (ret) {
		vfu_hdr_init(&rh, hdr->msg_id, hdr->cmd, 0,
			     VFU_F_TYPE_REPLY | VFU_F_ERROR);
		rh.error_no = vfu_errno_for_reply(ret);
	} else {
		iov[iovcnt].iov_base = &da;
		iov[iovcnt++].iov_len = sizeof(da);
		if (!write) {
			iov[iovcnt].iov_base = c->wreply;
			iov[iovcnt++].iov_len = da.count;
		}
		vfu_hdr_init(&rh, hdr->msg_id, hdr->cmd,
			     sizeof(da) + (write ? 0 : (u32)da.count),
			     VFU_F_TYPE_REPLY);
	}
	if (main_socket)
		pthread_mutex_lock(&c->send_lock);
	ret = vfu_transport_send(t, &rh, iov, iovcnt, NULL, 0);
	if (main_socket)
		pthread_mutex_unlock(&c->send_lock);
	if (ret)
		conn_fail(c, ret, "replying to server %s id %u: %s",
			  vfu_cmd_name(hdr->cmd), hdr->msg_id, strerror(-ret));
}

/* Twin socket: the worker owns it, reads a request, serves it. */
static int twin_serve_one(struct vfu_client *c)
{
	struct vfu_hdr hdr;
	char why[160] = "";
	unsigned int nr;
	u32 len;
	int ret;

	vfu_fds_init(&c->wfds);
	ret = vfu_transport_recv_hdr(&c->twin, &hdr, RX_LIMIT, &c->wfds, why,
				     sizeof(why));
	if (ret == -EAGAIN)
		return 0;
	if (!ret) {
		len = hdr.size - VFU_HDR_SIZE;
		ret = vfu_transport_recv_body(&c->twin, c->wbuf, len, &c->wfds);
		if (ret)
			snprintf(why, sizeof(why), "payload of %u bytes: %s",
				 len, strerror(-ret));
	}
	if (!ret && vfu_hdr_type(&hdr) != VFU_F_TYPE_COMMAND) {
		snprintf(why, sizeof(why), "unexpected reply id %u",
			 hdr.msg_id);
		ret = -EPROTO;
	}
	nr = c->wfds.nr;
	vfu_fds_close(&c->wfds, 0);
	if (ret) {
		conn_fail(c, ret, "twin socket: %s", why);
		return ret;
	}
	serve_request(c, &c->twin, false, &hdr, c->wbuf, len, nr);
	return 0;
}

static void *worker_main(void *arg)
{
	struct vfu_client *c = arg;
	struct work *w;

	for (;;) {
		if (c->has_twin) {
			if (stopping(c) || twin_serve_one(c))
				break;
			continue;
		}
		pthread_mutex_lock(&c->work_lock);
		while (!c->work_head && !c->work_stop) {
			pthread_mutex_unlock(&c->work_lock);
			if (stopping(c))
				return NULL;
			pthread_mutex_lock(&c->work_lock);
			if (c->work_head || c->work_stop)
				break;
			pthread_cond_wait(&c->work_cond, &c->work_lock);
		}
		w = c->work_head;
		if (w) {
			c->work_head = w->next;
			if (!c->work_head)
				c->work_tail = NULL;
			c->nr_work--;
		}
		pthread_mutex_unlock(&c->work_lock);
		if (!w)
			break;
		if (!stopping(c))
			serve_request(c, &c->t, true, &w->hdr, w->payload,
				      w->len, w->nr_fds);
		free(w);
	}
	return NULL;
}

/* ---- the receive thread: reads only while nobody waits ---------------------- */

static void *rx_main(void *arg)
{
	struct vfu_client *c = arg;
	struct pollfd pfd = { .fd = c->t.fd, .events = POLLIN };
	bool buffered;
	int r;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		/*
		 * Waiters read for themselves. Parking with a timeout rather
		 * than being signalled keeps the fast path free of wake-ups;
		 * the price is that a server request arriving just after the
		 * last waiter left waits up to RX_PARK_NS.
		 */
		while (c->state == VFU_CLIENT_CONNECTED &&
		       (c->nr_active || c->reader_busy)) {
			struct timespec ts = ns_to_ts(mono_ns() + RX_PARK_NS);

			pthread_cond_timedwait(&c->rx_cond, &c->lock, &ts);
		}
		if (c->state != VFU_CLIENT_CONNECTED)
			break;
		/*
		 * The last reader may have left messages in the receive
		 * buffer, which poll() does not see. Nobody holds the reader
		 * role now (it was given up under c->lock), so the buffer
		 * can be looked at.
		 */
		buffered = vfu_transport_rx_pending(&c->t);
		pthread_mutex_unlock(&c->lock);
		r = buffered ? 1 : poll(&pfd, 1, -1);
		pthread_mutex_lock(&c->lock);
		if (c->state != VFU_CLIENT_CONNECTED)
			break;
		if (r <= 0 || c->nr_active || c->reader_busy)
			continue;
		c->reader_busy = true;
		pthread_mutex_unlock(&c->lock);
		read_one(c, NULL);
		pthread_mutex_lock(&c->lock);
		c->reader_busy = false;
		offer_reader_locked(c, NULL);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- connect, negotiate, close ---------------------------------------------- */

/*
 * VERSION goes through the request path like any command: the same
 * receive, validation and fd hand-over. Before it, no server request can
 * be served (the worker is not running) and send_fds_max is 0.
 */
static int negotiate(struct vfu_client *c, bool offer_twin, char *err,
		     size_t err_len)
{
	struct vfu_caps ours, caps;
	struct vfu_version v = { VFU_VERSION_MAJOR, VFU_VERSION_MINOR };
	struct vfu_version rv;
	char json[256], why[300] = "";
	int rfds[VFU_MAX_RECV_FDS];
	struct iovec iov[2], riov;
	struct vfu_client_msg m = {
		.cmd = VFU_CMD_VERSION,
		.iov = iov,
		.iovcnt = 2,
		.riov = &riov,
		.riovcnt = 1,
		.reply_fds = rfds,
		.max_reply_fds = VFU_MAX_RECV_FDS,
	};
	u8 *reply;
	int n, ret, twin_fd = -1;
	unsigned int i;

	vfu_caps_defaults(&ours);
	ours.max_msg_fds = VFU_CLIENT_MAX_MSG_FDS;
	ours.max_data_xfer_size = VFU_CLIENT_MAX_DATA_XFER;
	ours.twin_socket = offer_twin;
	n = vfu_caps_format(&ours, json, sizeof(json));
	if (n < 0)
		return n;
	reply = malloc(VERSION_REPLY_LIMIT);
	if (!reply)
		return -ENOMEM;
	iov[0] = (struct iovec){ &v, sizeof(v) };
	iov[1] = (struct iovec){ json, n };
	riov = (struct iovec){ reply, VERSION_REPLY_LIMIT };
	ret = vfu_client_request(c, &m);
	if (ret) {
		/* A dead connection has said why; an ERROR reply has not. */
		pthread_mutex_lock(&c->lock);
		if (c->state != VFU_CLIENT_CONNECTED)
			snprintf(why, sizeof(why), "%s", c->reason);
		pthread_mutex_unlock(&c->lock);
		if (!why[0])
			snprintf(why, sizeof(why), "server refused VERSION: %s",
				 strerror(-ret));
		goto out;
	}
	memcpy(&rv, reply, sizeof(rv));
	if (rv.major != VFU_VERSION_MAJOR || rv.minor > VFU_VERSION_MINOR) {
		ret = -EPROTO;
		snprintf(why, sizeof(why), "server version %u.%u, we speak 0.0",
			 rv.major, rv.minor);
		goto out;
	}
	ret = vfu_caps_parse((const char *)reply + sizeof(rv),
			     m.reply_len - sizeof(rv), &caps, why, sizeof(why));
	if (ret) {
		ret = -EPROTO;
		goto out;
	}
	if (caps.twin_socket) {
		if (!offer_twin || !caps.twin_fd_index_set ||
		    caps.twin_fd_index >= m.nr_reply_fds) {
			ret = -EPROTO;
			snprintf(why, sizeof(why),
				 "inconsistent twin_socket in VERSION reply (offered %d, fd_index %s, %u fds)",
				 offer_twin,
				 caps.twin_fd_index_set ? "set" : "missing",
				 m.nr_reply_fds);
			goto out;
		}
		twin_fd = rfds[caps.twin_fd_index];
		rfds[caps.twin_fd_index] = -1;
	} else if (m.nr_reply_fds) {
		ret = -EPROTO;
		snprintf(why, sizeof(why), "VERSION reply with an fd but no twin socket");
		goto out;
	}
	if (twin_fd >= 0) {
		struct stat st;

		if (fstat(twin_fd, &st) || !S_ISSOCK(st.st_mode)) {
			close(twin_fd);
			ret = -EPROTO;
			snprintf(why, sizeof(why), "twin socket fd is no socket");
			goto out;
		}
		vfu_transport_init(&c->twin, twin_fd, NULL, NULL);
		c->has_twin = true;	/* client_free() closes it */
		vfu_transport_set_timeout(&c->twin, c->timeout_ms);
		ret = vfu_transport_rx_buffer(&c->twin,
					      VFU_TRANSPORT_RX_BUFFER);
		if (ret) {
			snprintf(why, sizeof(why), "twin socket buffer: %s",
				 strerror(-ret));
			goto out;
		}
	}
	c->server_caps = caps;
	c->server_major = rv.major;
	c->server_minor = rv.minor;
	c->xfer_max = MIN(caps.max_data_xfer_size, VFU_CLIENT_MAX_DATA_XFER);
	c->send_fds_max = MIN(caps.max_msg_fds, VFU_SCM_MAX_FD);
	clog(c, LOG_DEBUG,
	     "server %u.%u: max_msg_fds %u max_data_xfer_size %u twin socket %s",
	     rv.major, rv.minor, caps.max_msg_fds, caps.max_data_xfer_size,
	     c->has_twin ? "yes" : "no");
out:
	for (i = 0; i < m.nr_reply_fds; i++)
		if (rfds[i] >= 0)
			close(rfds[i]);
	free(reply);
	if (ret && err)
		snprintf(err, err_len, "VERSION negotiation failed: %s", why);
	else if (ret)
		clog(c, c->quiet_death ? LOG_INFO : LOG_ERR,
		     "VERSION negotiation failed: %s", why);
	return ret;
}

static void client_free(struct vfu_client *c)
{
	struct slot *s;
	struct work *w;

	while ((s = c->free)) {
		c->free = s->next;
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s);
	}
	while ((w = c->work_head)) {
		c->work_head = w->next;
		free(w);
	}
	vfu_transport_close(&c->t);
	if (c->has_twin)
		vfu_transport_close(&c->twin);
	free(c->rx_buf);
	free(c->wbuf);
	free(c->wreply);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->send_lock);
	pthread_mutex_destroy(&c->map_lock);
	pthread_mutex_destroy(&c->work_lock);
	pthread_cond_destroy(&c->rx_cond);
	pthread_cond_destroy(&c->idle_cond);
	pthread_cond_destroy(&c->work_cond);
	free(c);
}

int vfu_client_connect_fd(int fd, const struct vfu_client_options *opts,
			  struct vfu_client **out)
{
	static const struct vfu_client_options no_opts;
	struct vfu_client *c;
	int ret;

	if (!opts)
		opts = &no_opts;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(c->name, sizeof(c->name), "%s",
		 opts->name ? opts->name : "vfio-user");
	vfu_transport_init(&c->t, fd, opts->transport_ops,
			   opts->transport_opaque);
	c->twin.fd = -1;
	c->timeout_ms = opts->timeout_ms ? opts->timeout_ms :
					   VFU_CLIENT_DEFAULT_TIMEOUT_MS;
	c->reset_timeout_ms = opts->reset_timeout_ms ? opts->reset_timeout_ms :
						       4 * c->timeout_ms;
	c->poll_us = opts->poll_us;
	c->dma_ops = opts->dma_ops;
	c->dma_opaque = opts->dma_opaque;
	c->quiet_death = opts->quiet_death;
	c->state = VFU_CLIENT_CONNECTED;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->send_lock, NULL);
	pthread_mutex_init(&c->map_lock, NULL);
	pthread_mutex_init(&c->work_lock, NULL);
	cond_init_monotonic(&c->rx_cond);
	cond_init_monotonic(&c->idle_cond);
	pthread_cond_init(&c->work_cond, NULL);
	c->rx_buf = malloc(RX_LIMIT);
	if (!c->rx_buf) {
		ret = -ENOMEM;
		goto err;
	}
	ret = vfu_transport_rx_buffer(&c->t, VFU_TRANSPORT_RX_BUFFER);
	if (ret)
		goto err;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	ret = vfu_transport_set_timeout(&c->t, c->timeout_ms);
	if (ret) {
		clog(c, LOG_ERR, "socket fd %d: %s", fd, strerror(-ret));
		goto err;
	}
	c->negotiating = true;
	ret = negotiate(c, !opts->no_twin_socket, opts->err, opts->err_len);
	c->negotiating = false;
	if (ret)
		goto err;
	/* Told of deaths from now on, once it has a client to be told of. */
	c->on_dead = opts->on_dead;
	c->dead_opaque = opts->dead_opaque;
	if (c->has_twin) {
		c->wbuf = malloc(RX_LIMIT);
		if (!c->wbuf) {
			ret = -ENOMEM;
			goto err;
		}
	}
	ret = -pthread_create(&c->worker, NULL, worker_main, c);
	if (ret)
		goto err;
	c->worker_started = true;
	ret = -pthread_create(&c->rx_thread, NULL, rx_main, c);
	if (ret)
		goto err_stop;
	c->rx_started = true;
	*out = c;
	return 0;

err_stop:
	pthread_mutex_lock(&c->lock);
	c->state = VFU_CLIENT_CLOSING;
	pthread_mutex_unlock(&c->lock);
	vfu_transport_shutdown(&c->t);
	if (c->has_twin)
		vfu_transport_shutdown(&c->twin);
	pthread_mutex_lock(&c->work_lock);
	c->work_stop = true;
	pthread_cond_broadcast(&c->work_cond);
	pthread_mutex_unlock(&c->work_lock);
	pthread_join(c->worker, NULL);
err:
	client_free(c);
	return ret;
}

int vfu_client_connect(const char *path, const struct vfu_client_options *opts,
		       struct vfu_client **out)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int ret = -errno;

		/* The caller reports it: it may be retrying (wait=). */
		if (log_get_level() >= LOG_DEBUG)
			log_msg(LOG_DEBUG,
				opts && opts->name ? opts->name : "vfio-user",
				"connect %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return vfu_client_connect_fd(fd, opts, out);
}

void vfu_client_close(struct vfu_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->state == VFU_CLIENT_CONNECTED) {
		c->err = -ESHUTDOWN;
		snprintf(c->reason, sizeof(c->reason), "connection closed");
	}
	c->state = VFU_CLIENT_CLOSING;
	fail_waiters_locked(c, -ESHUTDOWN);
	pthread_mutex_unlock(&c->lock);
	wake_everyone(c, true);

	pthread_mutex_lock(&c->lock);
	while (c->nr_active)
		pthread_cond_wait(&c->idle_cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	if (c->rx_started)
		pthread_join(c->rx_thread, NULL);
	if (c->worker_started)
		pthread_join(c->worker, NULL);
	c->state = VFU_CLIENT_CLOSED;
	client_free(c);
}

enum vfu_client_state vfu_client_get_state(struct vfu_client *c)
{
	enum vfu_client_state st;

	pthread_mutex_lock(&c->lock);
	st = c->state;
	pthread_mutex_unlock(&c->lock);
	return st;
}

int vfu_client_error(struct vfu_client *c)
{
	int err;

	pthread_mutex_lock(&c->lock);
	err = c->state == VFU_CLIENT_CONNECTED ? 0 : c->err;
	pthread_mutex_unlock(&c->lock);
	return err;
}

const char *vfu_client_error_string(struct vfu_client *c)
{
	const char *s;

	/* reason is written once, before state leaves CONNECTED. */
	pthread_mutex_lock(&c->lock);
	s = c->state == VFU_CLIENT_CONNECTED ? "" : c->reason;
	pthread_mutex_unlock(&c->lock);
	return s;
}

void vfu_client_server_caps(struct vfu_client *c, struct vfu_caps *caps,
			    u16 *major, u16 *minor)
{
	if (caps)
		*caps = c->server_caps;
	if (major)
		*major = c->server_major;
	if (minor)
		*minor = c->server_minor;
}

bool vfu_client_has_twin_socket(struct vfu_client *c)
{
	return c->has_twin;
}

/* ---- typed commands ------------------------------------------------------------ */

static int simple_request(struct vfu_client *c, u16 cmd, void *req,
			  u32 req_len, void *reply, u32 reply_len)
{
	struct iovec iov = { req, req_len };
	struct iovec riov = { reply, reply_len };
	struct vfu_client_msg m = {
		.cmd = cmd,
		.iov = &iov,
		.iovcnt = req_len ? 1 : 0,
		.riov = &riov,
		.riovcnt = reply_len ? 1 : 0,
	};

	return vfu_client_request(c, &m);
}

int vfu_client_dma_map(struct vfu_client *c, u64 addr, u64 size, int fd,
		       u64 offset, u32 flags)
{
	struct vfu_dma_map dm = {
		.argsz = sizeof(dm),
		.flags = flags,
		.offset = fd >= 0 ? offset : 0,
		.addr = addr,
		.size = size,
	};
	struct iovec iov = { &dm, sizeof(dm) };
	struct vfu_client_msg m = {
		.cmd = VFU_CMD_DMA_MAP,
		.iov = &iov,
		.iovcnt = 1,
		.fds = &fd,
		.nr_fds = fd >= 0 ? 1 : 0,
	};
	int ret;

	if (flags & ~(VFU_DMA_MAP_F_READ | VFU_DMA_MAP_F_WRITE) || !size ||
	    addr + size < addr)
		return -EINVAL;
	pthread_mutex_lock(&c->map_lock);
	ret = c->nr_maps < MAX_DMA_MAPS ? 0 : -ENOSPC;
	pthread_mutex_unlock(&c->map_lock);
	if (ret)
		return ret;
	ret = vfu_client_request(c, &m);
	if (ret)
		return ret;
	pthread_mutex_lock(&c->map_lock);
	if (c->nr_maps < MAX_DMA_MAPS)
		c->maps[c->nr_maps++] = (struct dma_range){ addr, size, flags };
	pthread_mutex_unlock(&c->map_lock);
	return 0;
}

int vfu_client_dma_unmap(struct vfu_client *c, u64 addr, u64 size,
			 u32 flags)
{
	struct vfu_dma_unmap du = {
		.argsz = sizeof(du),
		.flags = flags,
		.addr = addr,
		.size = size,
	};
	struct vfu_dma_unmap rep;
	unsigned int i;
	int ret;

	if (flags & ~VFU_DMA_UNMAP_F_ALL)
		return -EINVAL;
	ret = simple_request(c, VFU_CMD_DMA_UNMAP, &du, sizeof(du), &rep,
			     sizeof(rep));
	if (ret)
		return ret;
	pthread_mutex_lock(&c->map_lock);
	for (i = 0; i < c->nr_maps; ) {
		if ((flags & VFU_DMA_UNMAP_F_ALL) ||
		    (c->maps[i].addr == addr && c->maps[i].size == size))
			c->maps[i] = c->maps[--c->nr_maps];
		else
			i++;
	}
	pthread_mutex_unlock(&c->map_lock);
	return 0;
}

int vfu_client_device_get_info(struct vfu_client *c,
			       struct vfu_device_info *info)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };

	return simple_request(c, VFU_CMD_DEVICE_GET_INFO, &req, sizeof(req),
			      info, sizeof(*info));
}

static int region_info_query(struct vfu_client *c, u32 index, u32 argsz,
			     void *buf, int *fd)
{
	struct vfu_region_info req = { .argsz = argsz, .index = index };
	struct iovec iov = { &req, sizeof(req) };
	struct iovec riov = { buf, argsz };
	struct vfu_client_msg m = {
		.cmd = VFU_CMD_DEVICE_GET_REGION_INFO,
		.iov = &iov,
		.iovcnt = 1,
		.riov = &riov,
		.riovcnt = 1,
		.reply_fds = fd,
		.max_reply_fds = 1,
	};
	int ret;

	*fd = -1;
	ret = vfu_client_request(c, &m);
	if (!ret && !m.nr_reply_fds)
		*fd = -1;
	return ret;
}

int vfu_client_region_info(struct vfu_client *c, u32 index,
			   struct vfu_client_region *region)
{
	struct vfu_region_info first, again;
	char why[200];
	u8 *buf;
	int ret, fd;

	memset(region, 0, sizeof(*region));
	region->fd = -1;
	ret = region_info_query(c, index, sizeof(first), &first, &fd);
	if (ret)
		return ret;
	if (first.argsz <= sizeof(first)) {
		region->info = first;
		region->fd = fd;
		return 0;
	}
	/* The server wants a bigger buffer for its capabilities: ask once
	 * more with exactly that size. */
	buf = calloc(1, first.argsz);
	if (!buf)
		return -ENOMEM;
	ret = region_info_query(c, index, first.argsz, buf, &fd);
	if (ret)
		goto out;
	memcpy(&again, buf, sizeof(again));
	if (again.argsz != first.argsz) {
		if (fd >= 0)
			close(fd);
		ret = -EPROTO;
		conn_fail(c, ret, "region %u: argsz %u on re-query, first %u",
			  index, again.argsz, first.argsz);
		goto out;
	}
	ret = vfu_region_caps_parse(buf, again.argsz, &region->caps, why,
				    sizeof(why));
	if (ret) {
		/* Validated already; only a changed mind gets here. */
		if (fd >= 0)
			close(fd);
		goto out;
	}
	region->info = again;
	region->fd = fd;
out:
	free(buf);
	return ret;
}

int vfu_client_region_io_fds(struct vfu_client *c, u32 index,
			     struct vfu_io_fd_entry *entries,
			     unsigned int max_entries, int *fds,
			     unsigned int max_fds, unsigned int *nr_fds)
{
	struct vfu_io_fds req = { .argsz = sizeof(req), .index = index };
	struct vfu_io_fds head;
	int rfds[VFU_MAX_RECV_FDS];
	struct iovec iov = { &req, sizeof(req) };
	struct iovec riov = { &head, sizeof(head) };
	struct vfu_client_msg m = {
		.cmd = VFU_CMD_DEVICE_GET_REGION_IO_FDS,
		.iov = &iov,
		.iovcnt = 1,
		.riov = &riov,
		.riovcnt = 1,
		.reply_fds = rfds,
		.max_reply_fds = VFU_MAX_RECV_FDS,
	};
	u32 i, stride, needed;
	u8 *buf;
	int ret;

	*nr_fds = 0;
	ret = vfu_client_request(c, &m);
	if (ret)
		return ret;
	if (head.count == 0 || head.argsz <= sizeof(head))
		return 0;
	needed = head.argsz;
	buf = malloc(needed);
	if (!buf)
		return -ENOMEM;
	req.argsz = needed;
	riov.iov_base = buf;
	riov.iov_len = needed;
	ret = vfu_client_request(c, &m);
	if (ret)
		goto out;
	memcpy(&head, buf, sizeof(head));
	if (head.argsz != needed || head.count == 0) {
		ret = -EPROTO;
		conn_fail(c, ret, "region %u io fds: argsz %u on re-query, first %u",
			  index, head.argsz, needed);
		goto close_fds;
	}
	if (head.count > max_entries || m.nr_reply_fds > max_fds) {
		ret = -E2BIG;
		goto close_fds;
	}
	stride = (head.argsz - sizeof(head)) / head.count;
	for (i = 0; i < head.count; i++) {
		const u8 *e = buf + sizeof(head) + (size_t)i * stride;
		struct vfu_ioeventfd lvu;
		struct vfu_ioeventfd_spec spec;

		if (stride == sizeof(lvu)) {
			memcpy(&lvu, e, sizeof(lvu));
			entries[i] = (struct vfu_io_fd_entry){
				lvu.offset, lvu.size, lvu.fd_index, lvu.type,
				lvu.flags, lvu.datamatch };
		} else {
			memcpy(&spec, e, sizeof(spec));
			entries[i] = (struct vfu_io_fd_entry){
				spec.offset, spec.size, spec.fd_index,
				spec.type, spec.flags, spec.datamatch };
		}
	}
	for (i = 0; i < m.nr_reply_fds; i++)
		fds[i] = rfds[i];
	*nr_fds = m.nr_reply_fds;
	ret = (int)head.count;
	goto out;
close_fds:
	for (i = 0; i < m.nr_reply_fds; i++)
		close(rfds[i]);
out:
	free(buf);
	return ret;
}

int vfu_client_irq_info(struct vfu_client *c, u32 index,
			struct vfu_irq_info *info)
{
	struct vfu_irq_info req = { .argsz = sizeof(req), .index = index };

	return simple_request(c, VFU_CMD_DEVICE_GET_IRQ_INFO, &req, sizeof(req),
			      info, sizeof(*info));
}

static int set_irqs_one(struct vfu_client *c, u32 index, u32 flags,
			u32 start, u32 count, const int *fds,
			unsigned int nr_fds, const u8 *bools)
{
	struct vfu_irq_set is = {
		.argsz = sizeof(is) + (bools ? count : 0),
		.flags = flags,
		.index = index,
		.start = start,
		.count = count,
	};
	struct iovec iov[2] = {
		{ &is, sizeof(is) },
		{ (void *)bools, bools ? count : 0 },
	};
	struct vfu_client_msg m = {
		.cmd = VFU_CMD_DEVICE_SET_IRQS,
		.iov = iov,
		.iovcnt = bools ? 2 : 1,
		.fds = fds,
		.nr_fds = nr_fds,
	};

	return vfu_client_request(c, &m);
}

int vfu_client_set_irqs(struct vfu_client *c, u32 index, u32 flags,
			u32 start, u32 count, const int *fds, const u8 *bools)
{
	u32 data = flags & VFU_IRQ_SET_DATA_MASK;
	u32 i = 0, j;
	int ret;

	if (count > VFU_MAX_IRQ_COUNT)
		return -EINVAL;
	if (data == VFU_IRQ_SET_DATA_BOOL)
		return bools ? set_irqs_one(c, index, flags, start, count,
					    NULL, 0, bools) : -EINVAL;
	if (data != VFU_IRQ_SET_DATA_EVENTFD || !fds || !count)
		return set_irqs_one(c, index, flags, start, count, NULL, 0,
				    NULL);
	if (!c->send_fds_max)
		return -EOPNOTSUPP;
	/* Runs of eventfds in chunks of max_msg_fds; runs of -1 without. */
	while (i < count) {
		j = i;
		if (fds[i] < 0) {
			while (j < count && fds[j] < 0)
				j++;
			ret = set_irqs_one(c, index, flags, start + i, j - i,
					   NULL, 0, NULL);
		} else {
			while (j < count && fds[j] >= 0 &&
			       j - i < c->send_fds_max)
				j++;
			ret = set_irqs_one(c, index, flags, start + i, j - i,
					   fds + i, j - i, NULL);
		}
		if (ret)
			return ret;
		i = j;
	}
	return 0;
}

int vfu_client_region_read(struct vfu_client *c, u32 region, u64 offset,
			   void *buf, u32 count)
{
	u32 done = 0;

	while (done < count) {
		u32 n = MIN(count - done, c->xfer_max);
		struct vfu_region_access ra = {
			.offset = offset + done, .region = region, .count = n,
		};
		struct vfu_region_access head;
		struct iovec iov = { &ra, sizeof(ra) };
		struct iovec riov[2] = {
			{ &head, sizeof(head) },
			{ (u8 *)buf + done, n },
		};
		struct vfu_client_msg m = {
			.cmd = VFU_CMD_REGION_READ,
			.iov = &iov,
			.iovcnt = 1,
			.riov = riov,
			.riovcnt = 2,
		};
		int ret = vfu_client_request(c, &m);

		if (ret)
			return ret;
		if (m.reply_len != sizeof(head) + n)
			return -EIO;
		done += n;
	}
	return 0;
}

/*
 * libvfio-user servers (tran_sock_recv_body(), up to at least efd091bc)
 * read a command's body with one recv() without MSG_WAITALL and fail the
 * message with "short read" (then lose framing) whenever the body is not
 * already queued whole, although they announce max_data_xfer_size 1 MiB:
 * always once the message exceeds the socket buffer (208 KiB), and
 * sometimes once it spans more than one AF_UNIX skb (SKB_MAX_HEAD(0) +
 * 32 KiB, ~36.5 KiB), when their recv() runs between our skbs. One
 * 32 KiB chunk plus its 32 bytes of headers always goes in one skb.
 */
#define VFU_CLIENT_WRITE_CHUNK	(32u * 1024u)

int vfu_client_region_write(struct vfu_client *c, u32 region, u64 offset,
			    const void *buf, u32 count)
{
	u32 done = 0;

	while (done < count) {
		u32 n = MIN(count - done, MIN(c->xfer_max, VFU_CLIENT_WRITE_CHUNK));
		struct vfu_region_access ra = {
			.offset = offset + done, .region = region, .count = n,
		};
		struct vfu_region_access head;
		struct iovec iov[2] = {
			{ &ra, sizeof(ra) },
			{ (u8 *)buf + done, n },
		};
		struct iovec riov = { &head, sizeof(head) };
		struct vfu_client_msg m = {
			.cmd = VFU_CMD_REGION_WRITE,
			.iov = iov,
			.iovcnt = 2,
			.riov = &riov,
			.riovcnt = 1,
		};
		int ret = vfu_client_request(c, &m);

		if (ret)
			return ret;
		if (head.count != n)
			return -EIO;
		done += n;
	}
	return 0;
}

bool vfu_client_posting(struct vfu_client *c)
{
	return !__atomic_load_n(&c->no_post, __ATOMIC_RELAXED);
}

int vfu_client_region_write_posted(struct vfu_client *c, u32 region,
				   u64 offset, const void *buf, u32 count)
{
	struct vfu_region_access ra = {
		.offset = offset, .region = region, .count = count,
	};
	struct iovec iov[2] = {
		{ &ra, sizeof(ra) },
		{ (void *)buf, count },
	};
	struct vfu_hdr hdr;
	u64 start = 0;
	int ret;

	if (!vfu_client_posting(c) ||
	    count > MIN(c->xfer_max, VFU_CLIENT_WRITE_CHUNK))
		return vfu_client_region_write(c, region, offset, buf, count);
	if (log_get_level() >= LOG_TRACE)
		start = mono_ns();
	pthread_mutex_lock(&c->lock);
	if (c->state != VFU_CLIENT_CONNECTED) {
		ret = c->err ? c->err : -ESHUTDOWN;
		pthread_mutex_unlock(&c->lock);
		return ret;
	}
	c->posted_ids[c->next_id / 64] |= 1ull << (c->next_id % 64);
	vfu_hdr_init(&hdr, c->next_id++, VFU_CMD_REGION_WRITE,
		     sizeof(ra) + count, VFU_F_TYPE_COMMAND | VFU_F_NO_REPLY);
	pthread_mutex_unlock(&c->lock);

	pthread_mutex_lock(&c->send_lock);
	ret = vfu_transport_send(&c->t, &hdr, iov, 2, NULL, 0);
	pthread_mutex_unlock(&c->send_lock);
	if (ret) {
		conn_fail(c, ret, "sending posted REGION_WRITE id %u: %s",
			  hdr.msg_id, strerror(-ret));
		return vfu_client_error(c) ? vfu_client_error(c) : ret;
	}
	if (phase_enabled) {
		phase_cur = (struct phase_cur){
			.set = true, .id = hdr.msg_id,
			.cmd = VFU_CMD_REGION_WRITE, .region = region,
			.exit = phase_cur.exit, .sent = phase_now(),
		};
	}
	clog_trace(c, "REGION_WRITE id %u size %u posted (no reply), %.1f us",
		   hdr.msg_id, hdr.size, (double)(mono_ns() - start) / 1000.0);
	return 0;
}

int vfu_client_device_reset(struct vfu_client *c)
{
	struct vfu_client_msg m = {
		.cmd = VFU_CMD_DEVICE_RESET,
		.timeout_ms = c->reset_timeout_ms,
	};

	return vfu_client_request(c, &m);
}
