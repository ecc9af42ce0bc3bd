/* reply.c - the pieces of registrar responses. */
#include <time.h>

#include "registrar/reg_int.h"

void reg_reply_simple(struct obuf *b, const struct reg_req *q, int status, const char *reason)
{
	sip_resp_begin(b, q->m, status, reason, q->src, q->to_tag);
}

/* Date (RFC 3261 §20.17): RFC 1123 form, always GMT. */
void reg_reply_date(struct obuf *b, time_t now)
{
	static const char *wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&now, &tm);
	ob_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n", wd[tm.tm_wday], tm.tm_mday,
		  mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* One Contact line per live binding, as stored, with its remaining time. */
void reg_reply_contacts(struct obuf *b, const struct reg_slot *slots, size_t n, time_t now)
{
	for (size_t i = 0; i < n; i++) {
		const struct reg_slot *s = &slots[i];
		const struct reg_binding *bd;

		if (s->act == SLOT_DEL)
			continue;
		bd = s->act == SLOT_PUT ? s->new : s->old;
		if (!bd || bd->expires <= now)
			continue;
		ob_str(b, "Contact: ");
		ob_put(b, bd->contact, bd->contact_len);
		ob_str(b, ";expires=");
		ob_u64(b, (unsigned long long)(bd->expires - now));
		ob_str(b, "\r\n");
	}
}
