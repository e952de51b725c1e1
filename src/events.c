// SPDX-License-Identifier: Apache-2.0
/*
 * events.c - decodes ring-buffer records and hands them to the sinks.
 *
 * The kernel is trusted to write well-formed records, but a record whose size
 * disagrees with its kind is counted and skipped rather than read past.
 */
#include <errno.h>
#include <string.h>

#include "events.h"
#include "pktconv.h"

int events__add_sink(struct events *e, const struct event_sink *sink)
{
	if (e->n_sinks == EVENTS_MAX_SINKS)
		return -ENOSPC;
	e->sinks[e->n_sinks++] = *sink;
	return 0;
}

/* Every sink, in order: for records from the ring and from pktconv alike. */
static void emit_conn(void *ctx, const struct sba_conn_ev *ev)
{
	struct events *e = ctx;

	for (int i = 0; i < e->n_sinks; i++)
		if (e->sinks[i].on_conn)
			e->sinks[i].on_conn(e->sinks[i].ctx, ev);
}

static void emit_data(void *ctx, const struct sba_data_ev *ev, const uint8_t *data)
{
	struct events *e = ctx;

	for (int i = 0; i < e->n_sinks; i++)
		if (e->sinks[i].on_data)
			e->sinks[i].on_data(e->sinks[i].ctx, ev, data);
}

/* Queued for the loop; when full, pktconv offers it again later. */
static bool take_owned(void *ctx, uint64_t cookie, uint32_t tgid)
{
	struct events *e = ctx;

	if (e->n_owned == EVENTS_MAX_OWNED)
		return false;
	e->owned[e->n_owned++] = (struct owned_sock){ cookie, tgid };
	return true;
}

int events__use_packets(struct events *e, uint32_t max_socks)
{
	struct pktconv_config cfg;

	pktconv_config_init(&cfg);
	cfg.max_socks = max_socks;
	cfg.out = (struct event_sink){ .on_conn = emit_conn, .on_data = emit_data, .ctx = e };
	cfg.on_owned = take_owned;
	cfg.owned_ctx = e;
	e->pc = pktconv__new(&cfg);
	return e->pc ? 0 : -errno;
}

void events__add_stats(const struct events *e, struct sba_counters *c)
{
	for (int i = 0; i < SBA_STAT__MAX; i++)
		c->stats[i] += e->stats[i];
}

void events__flush(struct events *e)
{
	if (e->pc)
		pktconv__flush(e->pc);
}

void events__tick(struct events *e, uint64_t now_ns)
{
	if (e->pc)
		pktconv__tick(e->pc, now_ns);
}

void events__take_owned(struct events *e, void (*own)(void *ctx, uint64_t cookie, uint32_t tgid),
			void *ctx)
{
	for (int i = 0; i < e->n_owned; i++)
		if (e->pc && pktconv__tracks(e->pc, e->owned[i].cookie))
			own(ctx, e->owned[i].cookie, e->owned[i].tgid);
	e->n_owned = 0;
}

void events__free(struct events *e)
{
	pktconv__free(e->pc);
	e->pc = NULL;
}

void events__take_born(struct events *e, void (*born)(void *ctx, uint32_t tgid),
		       void (*all)(void *ctx), void *ctx)
{
	if (e->born_overflow)
		all(ctx);
	else
		for (int i = 0; i < e->n_born; i++)
			born(ctx, e->born[i]);
	e->n_born = 0;
	e->born_overflow = false;
}

static void on_proc(struct events *e, const struct sba_proc_ev *ev)
{
	if (ev->hdr.kind != SBA_EV_PROC_EXIT && e->pc) {
		if (e->n_born < EVENTS_MAX_BORN)
			e->born[e->n_born++] = ev->hdr.tgid;
		else
			e->born_overflow = true;
	} else if (ev->hdr.kind == SBA_EV_PROC_EXIT) {
		if (e->n_exits < EVENTS_MAX_EXITS)
			e->exits[e->n_exits++] = (struct exited_proc){ ev->hdr.tgid, ev->gen };
		else
			e->exits_overflow++;
		/* its sockets close before the sinks forget the process */
		if (e->pc)
			pktconv__exit(e->pc, ev->hdr.tgid);
	}
	for (int i = 0; i < e->n_sinks; i++)
		if (e->sinks[i].on_proc)
			e->sinks[i].on_proc(e->sinks[i].ctx, ev);
}

int events__handle(void *ctx, void *data, size_t size)
{
	struct events *e = ctx;
	const struct sba_ev_hdr *hdr = data;

	if (size < sizeof(*hdr) || hdr->size > size) {
		e->bad_records++;
		return 0;
	}
	e->records++;
	/* The next records follow this one in the ring, written by another
	 * CPU: ask for their first lines now, while this one is parsed. */
	for (size_t off = 0; off < 512; off += 64)
		__builtin_prefetch((const uint8_t *)data + size + off);
	switch (hdr->kind) {
	case SBA_EV_CONN_OPEN:
	case SBA_EV_CONN_CLOSE:
		if (hdr->size < sizeof(struct sba_conn_ev))
			break;
		emit_conn(e, data);
		return 0;
	case SBA_EV_DATA: {
		const struct sba_data_ev *ev = data;

		if (hdr->size < sizeof(*ev) || ev->cap_len > SBA_CAP_MAX ||
		    sizeof(*ev) + ev->cap_len > hdr->size)
			break;
		emit_data(e, ev, (const uint8_t *)data + sizeof(*ev));
		return 0;
	}
	case SBA_EV_PKT: {
		const struct sba_pkt_ev *ev = data;

		if (!e->pc || hdr->size < sizeof(*ev) || ev->cap_len > SBA_CAP_MAX ||
		    ev->cap_len > ev->len || sizeof(*ev) + ev->cap_len > hdr->size)
			break;
		/* counted here, not by the skb programs (skb.bpf.h) */
		e->stats[SBA_STAT_DATA_EVENTS]++;
		e->stats[SBA_STAT_BYTES_SEEN] += ev->len;
		e->stats[SBA_STAT_BYTES_CAPTURED] += ev->cap_len;
		e->stats[SBA_STAT_RING_BYTES] += size;
		pktconv__pkt(e->pc, ev, (const uint8_t *)data + sizeof(*ev));
		return 0;
	}
	case SBA_EV_READ:
		if (!e->pc || hdr->size < sizeof(struct sba_read_ev))
			break;
		pktconv__read(e->pc, data);
		return 0;
	case SBA_EV_SOCK:
		if (!e->pc || hdr->size < sizeof(struct sba_sock_ev))
			break;
		pktconv__sock(e->pc, data);
		return 0;
	case SBA_EV_PROC_EXEC:
	case SBA_EV_PROC_FORK:
	case SBA_EV_PROC_EXIT:
		if (hdr->size < sizeof(struct sba_proc_ev))
			break;
		on_proc(e, data);
		return 0;
	default:
		break;
	}
	e->records--;
	e->bad_records++;
	return 0;
}
