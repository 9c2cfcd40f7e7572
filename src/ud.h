/* What a completion is for. With the connection's slot index and
 * generation it makes up user_data, so a late completion for a closed
 * connection is recognised and dropped. */
#ifndef RH_UD_H
#define RH_UD_H

#include <stdint.h>

enum rh_op {
	RH_OP_ACCEPT = 1,   /* idx: the listener */
	RH_OP_RECV,
	RH_OP_SEND,
	RH_OP_READ,
	RH_OP_POLL,	    /* the socket can take more bytes */
	RH_OP_TICK,
	RH_OP_WAKE,
	RH_OP_LOG_WRITE,
	RH_OP_HANDOFF,	    /* a connection another ring accepted for this one */
	RH_OP_HANDOFF_SENT, /* this ring's message to another ring */
	RH_OP_FILE_LOAD,    /* idx: the file cache's load slot */
	RH_OP_WARM,	    /* a look-up of a path the dentry cache lacked */
	RH_OP_LISTING,	    /* not a completion: a mailbox token, a listing is built */
	RH_OP_IGNORE,	    /* close, cancel: nothing to do on completion */
};

static inline uint64_t rh_ud(enum rh_op op, uint32_t idx, uint32_t gen)
{
	return (uint64_t)op << 56 | (uint64_t)(gen & 0xffffff) << 32 | idx;
}
static inline enum rh_op rh_ud_op(uint64_t ud) { return ud >> 56; }
static inline uint32_t rh_ud_gen(uint64_t ud) { return (ud >> 32) & 0xffffff; }
static inline uint32_t rh_ud_idx(uint64_t ud) { return (uint32_t)ud; }

#endif
