/* SPDX-License-Identifier: MIT */
#ifndef UVMM_VFIO_USER_SERVER_H
#define UVMM_VFIO_USER_SERVER_H

/*
 * A small vfio-user server library for device models (test devices,
 * users' own devices). One server serves one device to one client at a
 * time. The device is described up front (regions, IRQs, callbacks);
 * the library negotiates, validates every message as strictly as the
 * client does, keeps the DMA map table and the IRQ eventfds, and calls
 * back into the device for region accesses and reset.
 *
 * Threads: vfu_server_run() (the loop thread) handles client messages and
 * calls every callback. vfu_server_kick() from any thread makes the loop
 * call ops->work, the place for device work such as a DMA engine.
 * vfu_server_irq_trigger() may be called from any thread.
 * vfu_server_dma_read/write() use the client's memory directly when the
 * DMA_MAP came with an fd; otherwise they send DMA_READ/DMA_WRITE
 * messages: from any thread when the twin socket is in use, else only
 * from the loop thread (callbacks, ops->work).
 *
 *	srv = vfu_server_create(&opts);
 *	vfu_server_setup_region(srv, 0, &bar0);
 *	vfu_server_setup_irq(srv, VFU_IRQ_MSIX, 4);
 *	vfu_server_listen(srv, path);
 *	for (;;) { vfu_server_accept(srv); vfu_server_run(srv); }
 */

#include "common/types.h"
#include "vfio-user/protocol.h"

struct vfu_server;

/* Region access: count bytes at offset, 0 or -errno (sent as EINVAL...). */
typedef int (*vfu_server_access_fn)(void *opaque, u32 region, u64 offset,
				    void *buf, u32 count, bool is_write);

struct vfu_server_region {
	u64 size;
	u32 flags;			/* VFU_REGION_F_READ | _WRITE */
	vfu_server_access_fn access;	/* NULL: accesses fail EINVAL */
	int fd;				/* mmap-able backing or -1; dup'ed */
	u64 fd_offset;
	/* Mappable parts; NULL with an fd: the whole region. */
	const struct vfu_sparse_area *areas;
	u32 nr_areas;
	bool has_type;			/* add a VFIO_REGION_INFO_CAP_TYPE */
	u32 type, subtype;
};

struct vfu_server_ops {
	int (*reset)(void *opaque);
	/* MASK/UNMASK from SET_IRQS. */
	void (*irq_state)(void *opaque, u32 index, u32 start, u32 count,
			  bool masked);
	/* vaddr is the mapping, or NULL when DMA goes through messages. */
	void (*dma_map)(void *opaque, u64 iova, u64 size, void *vaddr,
			u32 flags);
	void (*dma_unmap)(void *opaque, u64 iova, u64 size);
	/* Called on the loop thread after vfu_server_kick(). */
	void (*work)(void *opaque);
	void (*disconnected)(void *opaque);
};

struct vfu_server_options {
	const char *name;		/* log prefix; NULL: "vfu-server" */
	u32 device_flags;		/* 0: VFU_DEVICE_F_PCI | _RESET */
	u32 num_regions;		/* 0: 9 */
	u32 num_irqs;			/* 0: 5 */
	u32 max_msg_fds;		/* announced, <= 16; 0: 16 */
	u32 max_data_xfer_size;		/* announced; 0: 1 MiB */
	u32 timeout_ms;			/* wait for a DMA reply; 0: 5000 */
	bool refuse_dma_fds;		/* map nothing: DMA by messages */
	bool no_twin_socket;		/* refuse the twin socket */
	/*
	 * Answer NO_REPLY commands too, as some servers do (Cloud
	 * Hypervisor's): only to test that clients survive such a server.
	 */
	bool reply_to_no_reply;
	/*
	 * After each message, look for the next one for this long (busy,
	 * without sleeping) before blocking: where waking a sleeping thread
	 * costs more than the message (an idle CPU of a virtual machine
	 * takes tens of microseconds to wake), back-to-back accesses skip
	 * the wake-up at the price of that much CPU after each. 0: never.
	 */
	u32 poll_us;
	/*
	 * Only to test that clients survive a server that dies in the
	 * middle of a DMA: once its N-th DMA_READ request (from 1) is on
	 * the socket, the process ends (_exit(9)) before the reply.
	 * 0: never.
	 */
	u32 exit_in_dma_read;
	const struct vfu_server_ops *ops;
	void *opaque;
};

int vfu_server_create(const struct vfu_server_options *opts,
		      struct vfu_server **out);
void vfu_server_destroy(struct vfu_server *srv);

int vfu_server_setup_region(struct vfu_server *srv, u32 index,
			    const struct vfu_server_region *region);
int vfu_server_setup_irq(struct vfu_server *srv, u32 index, u32 count);
/* An ioeventfd for DEVICE_GET_REGION_IO_FDS (fd dup'ed). */
int vfu_server_add_ioeventfd(struct vfu_server *srv, u32 region, u64 offset,
			     u64 size, int fd, u32 flags, u64 datamatch);
/*
 * An ioeventfd on the loop's own kick: a guest write there (a doorbell)
 * makes the loop call ops->work, with no message and no other thread in
 * between. The value written is not delivered: the device must find it
 * elsewhere (NVMe: the shadow doorbell buffer).
 */
int vfu_server_add_kick_ioeventfd(struct vfu_server *srv, u32 region,
				  u64 offset, u64 size);

/*
 * For a server program's own accept loop (one that must stop on a
 * signal): bind + listen on a UNIX socket at path, replacing a stale
 * socket file but refusing anything else there. Returns the listening fd,
 * or a negative errno with err naming the problem.
 */
int vfu_listen_unix(const char *path, char *err, size_t err_len);
/*
 * Wait for one client on listen_fd: the connected fd, -ECANCELED once
 * stop_fd is readable, or a negative errno.
 */
int vfu_accept_stoppable(int listen_fd, int stop_fd);

/*
 * A server program's stop on SIGTERM or SIGINT, one per process. The
 * program blocks both signals in every thread (before it creates any);
 * this starts a thread that waits for them. The first one removes
 * unlink_path (unless NULL; at most once), marks the stop, wakes
 * vfu_accept_stoppable() through the returned fd and stops the server
 * given to vfu_stop_server(); a second one ends the process at once
 * (status 1), the first being stuck. The state lives as long as the
 * process. Returns the fd for vfu_accept_stoppable(), or a negative errno.
 */
int vfu_stop_on_signals(const char *unlink_path);
/* The server the signal stops; NULL before it is torn down. */
void vfu_stop_server(struct vfu_server *srv);
bool vfu_stop_requested(void);
/* Removes unlink_path now, if the signal has not. */
void vfu_stop_unlink(void);

/* bind + listen on path (a stale socket file is replaced). */
int vfu_server_listen(struct vfu_server *srv, const char *path);
/* Accept one client and negotiate VERSION. */
int vfu_server_accept(struct vfu_server *srv);
/* Use an already connected socket (ownership taken), negotiate. */
int vfu_server_attach_fd(struct vfu_server *srv, int fd);

/*
 * Serve the client until it disconnects (returns 0), vfu_server_stop()
 * (-ECANCELED) or a protocol error (negative errno; the connection is
 * dropped). Either way the client's state (DMA maps, eventfds) is gone
 * afterwards and vfu_server_accept() may be called again.
 */
int vfu_server_run(struct vfu_server *srv);
/* From any thread: make the loop call ops->work. */
int vfu_server_kick(struct vfu_server *srv);
/* From any thread: make vfu_server_run() return. */
void vfu_server_stop(struct vfu_server *srv);

int vfu_server_irq_trigger(struct vfu_server *srv, u32 index, u32 vector);
/* Whether the client gave an eventfd for that vector. */
bool vfu_server_irq_enabled(struct vfu_server *srv, u32 index, u32 vector);

int vfu_server_dma_read(struct vfu_server *srv, u64 iova, void *buf,
			u64 len);
int vfu_server_dma_write(struct vfu_server *srv, u64 iova, const void *buf,
			 u64 len);

bool vfu_server_has_twin_socket(struct vfu_server *srv);
/* Commands that came with NO_REPLY since the server was created. */
u64 vfu_server_no_reply_count(struct vfu_server *srv);
/* The client's announced capabilities. */
void vfu_server_client_caps(struct vfu_server *srv, struct vfu_caps *caps);

#endif
