/* test_uri.c - URIs, name-addr, Via entries, §19.1.4 equality, AOR keys. */
#include "sip_test.h"
#include "sip/sip_int.h"

/* Parsed objects keep slices into their text: keep a heap copy per call
 * and free them all at the end of each test. */
#define MAXKEEP 256
static char *keep[MAXKEEP];
static int nkeep;

static sl_t heap_n(const char *s, size_t n)
{
	char *b = t_dup(s, n);

	assert_true(nkeep < MAXKEEP);
	keep[nkeep++] = b;
	return sl_make(b, n);
}

static sl_t heap(const char *s)
{
	return heap_n(s, strlen(s));
}

static int teardown(void **state)
{
	(void)state;
	while (nkeep > 0)
		free(keep[--nkeep]);
	return 0;
}

static int uri(const char *s, struct sip_uri *u)
{
	return sip_uri_parse(heap(s), u);
}

/* URI ------------------------------------------------------------------- */

static void test_uri_full(void **state)
{
	struct sip_uri u;

	(void)state;
	assert_int_equal(uri("sip:alice:secret@Example.COM:5070;transport=tcp;lr?subject=x&h=y", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_SIP);
	assert_sl(u.scheme_str, "sip");
	assert_sl(u.user, "alice");
	assert_sl(u.password, "secret");
	assert_sl(u.host, "Example.COM");
	assert_false(u.host_ipv6);
	assert_int_equal(u.port, 5070);
	assert_sl(u.params, ";transport=tcp;lr");
	assert_sl(u.headers, "?subject=x&h=y");
	assert_sl(u.whole, "sip:alice:secret@Example.COM:5070;transport=tcp;lr?subject=x&h=y");
}

static void test_uri_minimal(void **state)
{
	struct sip_uri u;

	(void)state;
	assert_int_equal(uri("sips:example.com", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_SIPS);
	assert_false(sl_isset(u.user));
	assert_false(sl_isset(u.password));
	assert_sl(u.host, "example.com");
	assert_int_equal(u.port, 0);
	assert_int_equal(u.params.len, 0);
	assert_int_equal(u.headers.len, 0);
	assert_int_equal(uri("SIP:192.0.2.4", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_SIP);
	assert_sl(u.host, "192.0.2.4");
	assert_int_equal(uri("sip:host_name-1.example.com:0", &u), 0);
	assert_int_equal(u.port, 0);
	assert_int_equal(uri("sip:h:65535", &u), 0);
	assert_int_equal(u.port, 65535);
	assert_int_equal(uri("sip:a:@h", &u), 0);
	assert_true(sl_isset(u.password));
	assert_int_equal(u.password.len, 0);
}

static void test_uri_user_chars(void **state)
{
	struct sip_uri u;

	(void)state;
	/* RFC 4475 semiuri: ';' belongs to the user part before '@' */
	assert_int_equal(uri("sip:user;par=u%40example.net@example.com", &u), 0);
	assert_sl(u.user, "user;par=u%40example.net");
	assert_sl(u.host, "example.com");
	assert_int_equal(u.params.len, 0);
	/* RFC 4475 intmeth: '?', ',', '/', ';' in the user, many marks in the password */
	assert_int_equal(uri("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com", &u), 0);
	assert_sl(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_sl(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_sl(u.host, "example.com");
	/* escapes stay escaped in the slice */
	assert_int_equal(uri("sip:sips%3Auser%40example.com@example.net", &u), 0);
	assert_sl(u.user, "sips%3Auser%40example.com");
	assert_sl(u.host, "example.net");
	assert_int_equal(uri("sip:null-%00-null@example.com", &u), 0);
	assert_int_equal(uri("sip:+1-212-555-1212:1234@gateway.com;user=phone", &u), 0);
	assert_sl(u.user, "+1-212-555-1212");
	assert_sl(u.password, "1234");
	assert_sl(u.params, ";user=phone");
	/* esc01 contact: escaped parameter names and values */
	assert_int_equal(uri("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31", &u), 0);
	assert_sl(u.params, ";%6C%72;n%61me=v%61lue%25%34%31");
}

static void test_uri_ipv6(void **state)
{
	struct sip_uri u;

	(void)state;
	assert_int_equal(uri("sip:[2001:db8::1]:5060;transport=udp", &u), 0);
	assert_sl(u.host, "2001:db8::1");
	assert_true(u.host_ipv6);
	assert_int_equal(u.port, 5060);
	assert_sl(u.params, ";transport=udp");
	assert_int_equal(uri("sip:bob@[::ffff:192.0.2.1]", &u), 0);
	assert_sl(u.host, "::ffff:192.0.2.1");
	assert_int_equal(u.port, 0);
	assert_int_equal(uri("sip:[2001:DB8:0:0:0:0:0:1]", &u), 0);
	assert_int_equal(uri("sip:[::1", &u), -1);
	assert_int_equal(uri("sip:[]", &u), -1);
	assert_int_equal(uri("sip:[zz::1]", &u), -1);
	assert_int_equal(uri("sip:[1.2.3.4]", &u), -1);
	assert_int_equal(uri("sip:[::1]x", &u), -1);
	assert_int_equal(uri("sip:[::1%eth0]", &u), -1);
	assert_int_equal(uri("sip:2001:db8::1", &u), -1);
}

static void test_uri_other_schemes(void **state)
{
	struct sip_uri u;

	(void)state;
	assert_int_equal(uri("tel:+1-201-555-0123;phone-context=example.com", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_TEL);
	assert_sl(u.user, "+1-201-555-0123");
	assert_sl(u.params, ";phone-context=example.com");
	assert_int_equal(uri("tel:", &u), -1);
	assert_int_equal(uri("tel:;x", &u), -1);
	assert_int_equal(uri("tel:12 34", &u), -1);
	assert_int_equal(uri("soap.beep://192.0.2.103:3002", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_OTHER);
	assert_sl(u.scheme_str, "soap.beep");
	assert_int_equal(u.host.len, 0);
	assert_int_equal(uri("nobodyKnowsThisScheme:totallyopaquecontent", &u), 0);
	assert_int_equal(u.scheme, SIP_SCHEME_OTHER);
	assert_int_equal(uri("mailto:a@b", &u), 0);
	assert_int_equal(uri("isbn:2983792873", &u), 0);
	assert_int_equal(uri("http://www.example.com", &u), 0);
}

static void test_uri_invalid(void **state)
{
	static const char *const bad[] = {
		"", "sip", "sip:", ":x", "1sip:x", "s p:x", "sip:@h", "sip:a@", "sip:a b@h",
		"sip:a@h b", "sip:a@h;", "sip:a@h;;x", "sip:a@h;=x", "sip:a@h?", "sip:%zz@h",
		"sip:a%2@h", "sip:a@h>", "sip:<a@h>", "sip:a@h:", "sip:a@h:x", "sip:a@h:65536",
		"sip:a@h:123456", "sip:a@h:-1", "sip:a\"b@h", "sip:a@h\r\n", "sip:caf\xc3\xa9@h",
		"sip:a:b:c@h", "sip:a@b@c", "sip:a@h;p=\"q\"", "sip:a@h?x=<y>", "sip:a@h#frag",
		"sip:a@:5060", "sip:a@h;lr?x y", "sip:a@h:5060:5061",
	};
	struct sip_uri u;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (uri(bad[i], &u) != -1)
			print_error("accepted URI [%s]\n", bad[i]);
		assert_int_equal(uri(bad[i], &u), -1);
	}
}

/* name-addr / addr-spec ------------------------------------------------- */

static int na(const char *s, struct sip_naddr *n)
{
	return sip_naddr_parse(heap(s), n);
}

static void test_naddr_quoted_display(void **state)
{
	struct sip_naddr n;

	(void)state;
	assert_int_equal(na(" \"Display \\\"Name\\\", Jr\" <sip:a@b>;tag=x;expires=60 ", &n), 0);
	assert_sl(n.display, "\"Display \\\"Name\\\", Jr\"");
	assert_sl(n.uri_str, "sip:a@b");
	assert_true(n.bracketed);
	assert_sl(n.uri.user, "a");
	assert_sl(n.params, ";tag=x;expires=60");
	assert_sl(n.tag, "x");
	assert_sl(n.whole, "\"Display \\\"Name\\\", Jr\" <sip:a@b>;tag=x;expires=60");
	/* RFC 4475 wsinv From, folded */
	assert_int_equal(na("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8", &n), 0);
	assert_sl(n.display, "\"J Rosenberg \\\\\\\"\"");
	assert_sl(n.tag, "98asjd8");
	/* intmeth To: escaped controls inside quotes */
	{
		static const char ctl[] = "\"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" <sip:x@example.com>";

		assert_int_equal(sip_naddr_parse(heap_n(ctl, sizeof(ctl) - 1), &n), 0);
		assert_int_equal(n.display.len, 22);
	}
	assert_int_equal(na("\"\" <sip:a@b>", &n), 0);
	assert_sl(n.display, "\"\"");
	assert_int_equal(na("\"no space\"<sip:a@b>", &n), 0);
}

static void test_naddr_token_display(void **state)
{
	struct sip_naddr n;

	(void)state;
	assert_int_equal(na("Name <sip:a@b>", &n), 0);
	assert_sl(n.display, "Name");
	assert_int_equal(na("  First  Last\t<sip:a@b>", &n), 0);
	assert_sl(n.display, "First  Last");
	/* RFC 4475 lwsdisp */
	assert_int_equal(na("caller<sip:caller@example.com>;tag=323", &n), 0);
	assert_sl(n.display, "caller");
	assert_sl(n.tag, "323");
	assert_int_equal(na("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=_token~1'+`*%!-.", &n), 0);
	assert_sl(n.tag, "_token~1'+`*%!-.");
	assert_int_equal(na("<sip:a@b>", &n), 0);
	assert_int_equal(n.display.len, 0);
	assert_int_equal(n.params.len, 0);
	assert_int_equal(n.tag.len, 0);
}

/* Without brackets, parameters after the URI belong to the header. */
static void test_naddr_addr_spec(void **state)
{
	struct sip_naddr n;

	(void)state;
	assert_int_equal(na("sip:a@b;tag=x", &n), 0);
	assert_false(n.bracketed);
	assert_sl(n.uri_str, "sip:a@b");
	assert_int_equal(n.uri.params.len, 0);
	assert_sl(n.params, ";tag=x");
	assert_sl(n.tag, "x");
	/* bracketed: they are URI params */
	assert_int_equal(na("<sip:a@b;tag=x>", &n), 0);
	assert_sl(n.uri.params, ";tag=x");
	assert_int_equal(n.tag.len, 0);
	/* no tag: empty but not NULL, callers copy it (RFC 4475 inv2543) */
	assert_non_null(n.tag.p);
	assert_int_equal(na("sip:a@b", &n), 0);
	assert_int_equal(n.tag.len, 0);
	assert_non_null(n.tag.p);
	/* RFC 4475 wsinv To */
	assert_int_equal(na("\r\n sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n", &n), 0);
	assert_sl(n.uri.host, "chair-dnrc.example.com");
	assert_sl(n.tag, "1918181833n");
	assert_int_equal(na("sip:+19725552222@gw1.example.net;unknownparam", &n), 0);
	assert_int_equal(na("isbn:2983792873", &n), 0);
	assert_int_equal(n.uri.scheme, SIP_SCHEME_OTHER);
	assert_int_equal(na("<http://www.example.com>;tag=3234233", &n), 0);
	assert_int_equal(na("<sip:[2001:db8::1]:5060>", &n), 0);
	assert_true(n.uri.host_ipv6);
	assert_int_equal(na("sip:[2001:db8::1]:5060;tag=1", &n), 0);
	assert_sl(n.uri.host, "2001:db8::1");
	assert_sl(n.tag, "1");
	assert_int_equal(na("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>", &n), 0);
	assert_sl(n.uri.headers, "?Route=%3Csip:sip.example.com%3E");
}

static void test_naddr_invalid(void **state)
{
	static const char *const bad[] = {
		"", " ", "*", "\"open <sip:a@b>", "\"x\" sip:a@b", "Bell, Alexander <sip:a@b>",
		"< sip:a@b >", "<sip:a@b", "sip:a@b>", "<sip:a@b> x", "<sip:a@b>;;",
		"<sip:a@b>;tag", "<sip:a@b>;tag=\"x", "sip:a@b?h=1", "sip:a,b@c",
		"<sip:a@b>, <sip:c@d>", "sip:a@b, sip:c@d", "<>", "\"x\"", "Name", "<sip:a@b>>",
		"<sip:a@b>;tag=", "<sip:a@b>;=x", "Name <sip:a@b> <sip:c@d>",
	};
	struct sip_naddr n;

	(void)state;
	/* a trailing ';' is tolerated, as by every parameter list here */
	assert_int_equal(na("<sip:a@b>;", &n), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = na(bad[i], &n);

		if (rc != -1)
			print_error("accepted name-addr [%s]\n", bad[i]);
		assert_int_equal(rc, -1);
	}
}

/* Via ------------------------------------------------------------------- */

static int via(const char *s, struct sip_via *v)
{
	return sip_via_parse(heap(s), v);
}

static void test_via(void **state)
{
	struct sip_via v;

	(void)state;
	assert_int_equal(via("SIP/2.0/UDP pc33.example.com:5066;branch=z9hG4bK776;rport", &v), 0);
	assert_sl(v.transport, "UDP");
	assert_sl(v.host, "pc33.example.com");
	assert_int_equal(v.port, 5066);
	assert_sl(v.params, ";branch=z9hG4bK776;rport");
	assert_sl(v.branch, "z9hG4bK776");
	assert_true(v.rport);
	assert_sl(v.entry, "SIP/2.0/UDP pc33.example.com:5066;branch=z9hG4bK776;rport");
	assert_int_equal(via("sip/2.0/tcp h", &v), 0);
	assert_sl(v.transport, "tcp");
	assert_int_equal(v.port, 0);
	assert_int_equal(v.params.len, 0);
	assert_int_equal(v.branch.len, 0);
	assert_false(v.rport);
	assert_int_equal(via("SIP/2.0/UDP [2001:db8::1]:5060;rport=1234;received=2001:db8::2", &v), 0);
	assert_sl(v.host, "2001:db8::1");
	assert_int_equal(v.port, 5060);
	assert_true(v.rport);
	assert_int_equal(via("SIP/2.0/UDP [2001:db8::1]", &v), 0);
	assert_sl(v.host, "2001:db8::1");
	assert_int_equal(via("  SIP  /   2.0\r\n /UDP\r\n    192.0.2.2 : 5060 ;branch=390skdjuw  ", &v), 0);
	assert_sl(v.host, "192.0.2.2");
	assert_int_equal(v.port, 5060);
	assert_sl(v.branch, "390skdjuw");
	assert_int_equal(via("SIP/2.0/UDP h;branch=z9hG4bK-.!%66*_+`'~", &v), 0);
	assert_sl(v.branch, "z9hG4bK-.!%66*_+`'~");
	assert_int_equal(via("SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en", &v), 0);
	/* other versions parse (the request then gets a 505) */
	assert_int_equal(via("SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw", &v), 0);
	assert_sl(v.transport, "UDP");
	assert_int_equal(via("SIP/2.0/TLS h;maddr=224.2.0.1;ttl=16;x=\"quoted, string\"", &v), 0);
}

static void test_via_invalid(void **state)
{
	static const char *const bad[] = {
		"", "SIP", "SIP/2.0", "SIP/2.0/UDP", "SIP/2.0/UDP ", "SIP/2.0/ h", "SIP//UDP h",
		"/2.0/UDP h", "SIP/2.0/UDP h:", "SIP/2.0/UDP h:70000", "SIP/2.0/UDP h;",
		"SIP/2.0/UDP h;;", "SIP/2.0/UDP h junk", "SIP/2.0/UDP [::1", "SIP/2.0/UDP h;branch=",
		"SIP/2.0/UDPh", "SIP/2.0/UDP h;x=\"open", "SIP/2.0/UDP <h>",
	};
	struct sip_via v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = via(bad[i], &v);

		/* "h;" (a trailing ';') is tolerated like everywhere else */
		if (strcmp(bad[i], "SIP/2.0/UDP h;") == 0) {
			assert_int_equal(rc, 0);
			continue;
		}
		if (rc != -1)
			print_error("accepted Via [%s]\n", bad[i]);
		assert_int_equal(rc, -1);
	}
}

/* §19.1.4 ------------------------------------------------------------------ */

static bool eq(const char *a, const char *b)
{
	struct sip_uri x, y;

	assert_int_equal(uri(a, &x), 0);
	assert_int_equal(uri(b, &y), 0);
	/* equality is symmetric */
	assert_int_equal(sip_uri_eq(&x, &y), sip_uri_eq(&y, &x));
	return sip_uri_eq(&x, &y);
}

static void test_eq_rfc_equal(void **state)
{
	(void)state;
	/* the sets of RFC 3261 §19.1.4 that are equivalent */
	assert_true(eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		       "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
	assert_true(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		       "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
	/* and with itself */
	assert_true(eq("sip:a:b@h:1;x=y?z=w", "sip:a:b@h:1;x=y?z=w"));
}

static void test_eq_rfc_not_equal(void **state)
{
	(void)state;
	/* the sets of RFC 3261 §19.1.4 that are not equivalent */
	assert_false(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	assert_false(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
	assert_false(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
	/* equality is not transitive */
	assert_false(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
}

static void test_eq_more(void **state)
{
	(void)state;
	/* sip vs sips */
	assert_false(eq("sip:a@h", "sips:a@h"));
	assert_true(eq("SIPS:a@h", "sips:a@h"));
	/* user present vs absent, password present vs absent, case */
	assert_false(eq("sip:a@h", "sip:h"));
	assert_false(eq("sip:a:pw@h", "sip:a@h"));
	assert_false(eq("sip:a:pw@h", "sip:a:PW@h"));
	assert_true(eq("sip:a:p%77@h", "sip:a:pw@h"));
	assert_false(eq("sip:Alice@h", "sip:alice@h"));
	/* an escaped reserved char still equals its literal after decoding */
	assert_true(eq("sip:a%3bb@h", "sip:a;b@h"));
	/* ports */
	assert_true(eq("sip:a@h:5060", "sip:a@h:5060"));
	assert_false(eq("sip:a@h:5060", "sip:a@h:5061"));
	assert_false(eq("sip:a@h:0", "sip:a@h"));
	/* sticky params: user, ttl, method, maddr, transport */
	assert_false(eq("sip:a@h;user=phone", "sip:a@h"));
	assert_false(eq("sip:a@h;ttl=1", "sip:a@h"));
	assert_false(eq("sip:a@h;method=INVITE", "sip:a@h"));
	assert_false(eq("sip:a@h;maddr=239.255.255.1", "sip:a@h"));
	assert_false(eq("sip:a@h;%6daddr=x", "sip:a@h"));
	assert_true(eq("sip:a@h;maddr=X", "sip:a@h;MADDR=x"));
	assert_false(eq("sip:a@h;lr", "sip:a@h;lr=on"));
	assert_true(eq("sip:a@h;lr", "sip:a@h;LR"));
	assert_true(eq("sip:a@h;%6C%72", "sip:a@h;lr"));
	/* headers: never ignored */
	assert_false(eq("sip:a@h?x=1", "sip:a@h?x=1&y=2"));
	assert_false(eq("sip:a@h?x=1", "sip:a@h?x=2"));
	assert_true(eq("sip:a@h?X=1", "sip:a@h?x=1"));
	/* IPv6: by address, not by text */
	assert_true(eq("sip:a@[2001:db8::1]", "sip:a@[2001:DB8:0:0::1]"));
	assert_false(eq("sip:a@[2001:db8::1]", "sip:a@[2001:db8::2]"));
	assert_false(eq("sip:a@[::1]:5060", "sip:a@[::1]"));
	/* other schemes: opaque */
	assert_true(eq("tel:+123", "TEL:+123"));
	assert_false(eq("tel:+123", "sip:+123@h"));
	assert_true(eq("foo:bar", "FOO:bar"));
	assert_false(eq("foo:bar", "foo:BAR"));
}

static void test_eq_many_params(void **state)
{
	char a[2048], b[2048];
	size_t o = 0;
	struct sip_uri x, y;

	(void)state;
	o += (size_t)snprintf(a + o, sizeof(a) - o, "sip:a@h");
	for (int i = 0; i <= SIP_URI_MAX_PARAMS; i++)
		o += (size_t)snprintf(a + o, sizeof(a) - o, ";p%d", i);
	memcpy(b, a, o + 1);
	assert_int_equal(uri(a, &x), 0);
	assert_int_equal(uri(b, &y), 0);
	/* past the comparison bound, absurd URIs compare unequal */
	assert_false(sip_uri_eq(&x, &y));
}

/* AOR --------------------------------------------------------------------- */

static const char *aor(const char *s)
{
	static char out[256];
	struct sip_uri u;
	int n;

	assert_int_equal(uri(s, &u), 0);
	n = sip_aor_canon(&u, out, sizeof(out));
	if (n < 0)
		return NULL;
	assert_int_equal((size_t)n, strlen(out));
	return out;
}

static void test_aor(void **state)
{
	(void)state;
	assert_string_equal(aor("sip:alice@example.com"), "alice@example.com");
	assert_string_equal(aor("sip:Alice@EXAMPLE.com:5060;transport=tcp?x=y"), "Alice@example.com");
	assert_string_equal(aor("sips:alice@example.com"), "alice@example.com");
	assert_string_equal(aor("sip:alice:secret@example.com"), "alice@example.com");
	assert_string_equal(aor("sip:%61lice@example.com"), "alice@example.com");
	assert_string_equal(aor("sip:I%20have%20spaces@example.net"), "I have spaces@example.net");
	assert_string_equal(aor("sip:sips%3Auser%40example.com@example.net"),
			    "sips:user@example.com@example.net");
	assert_string_equal(aor("sip:user;par=u%40example.net@example.com"),
			    "user;par=u@example.net@example.com");
	assert_string_equal(aor("sip:bob@[2001:DB8:0::1]:5060"), "bob@[2001:db8::1]");
	assert_string_equal(aor("sip:bob@192.0.2.1"), "bob@192.0.2.1");
	/* RFC 4475 escnull: a NUL must not cut the key short, and '%' stays
	 * escaped so that keys remain distinct */
	assert_string_equal(aor("sip:null-%00-null@example.com"), "null-%00-null@example.com");
	assert_string_equal(aor("sip:a%25b@h"), "a%25b@h");
	assert_string_equal(aor("sip:a%0ab@h"), "a%0Ab@h");
	/* no user, other schemes */
	assert_null(aor("sip:example.com"));
	assert_null(aor("tel:+1234"));
	assert_null(aor("mailto:a@b"));
}

static void test_aor_bounds(void **state)
{
	struct sip_uri u;
	char out[32];

	(void)state;
	assert_int_equal(uri("sip:alice@example.com", &u), 0);
	/* 17 bytes + NUL */
	assert_int_equal(sip_aor_canon(&u, out, 18), 17);
	assert_string_equal(out, "alice@example.com");
	assert_int_equal(sip_aor_canon(&u, out, 17), -1);
	assert_int_equal(sip_aor_canon(&u, out, 5), -1);
	assert_int_equal(sip_aor_canon(&u, out, 0), -1);
	assert_int_equal(uri("sip:a%00@h", &u), 0);
	assert_int_equal(sip_aor_canon(&u, out, 6), -1);
	assert_int_equal(sip_aor_canon(&u, out, 7), 6);
	assert_int_equal(uri("sip:a@[::1]", &u), 0);
	assert_int_equal(sip_aor_canon(&u, out, 7), -1);
	assert_int_equal(sip_aor_canon(&u, out, 8), 7);
	assert_string_equal(out, "a@[::1]");
}

/* RFC 5118 §4.10: RFC 3261's ABNF allows "::" + ":" IPv4address, i.e.
 * three colons before a dotted quad; that one construct is tolerated. */
static void test_uri_ipv6_abnf_bug(void **state)
{
	static const char *const still_bad[] = {
		"sip:[2001:db8:::1]", "sip:[2001:db8::::192.0.2.1]", "sip:[2001::1:::192.0.2.1]",
		"sip:[2001:db8:::192.0.2]", "sip:[2001:db8:::192.0.2.1x]", "sip:[:::]",
		"sip:[:::192.0.2.1:5]", "sip:[1:2:3:4:5:6:7:::192.0.2.1]",
	};
	struct sip_uri u;
	struct sip_via v;

	(void)state;
	assert_int_equal(uri("sip:user@[2001:db8:::192.0.2.1]", &u), 0);
	assert_true(u.host_ipv6);
	/* kept as written: a proxy may forward it as is */
	assert_sl(u.host, "2001:db8:::192.0.2.1");
	assert_int_equal(uri("sip:[2001:db8:::192.0.2.1]:5070;lr", &u), 0);
	assert_int_equal(u.port, 5070);
	assert_int_equal(uri("sip:[:::192.0.2.1]", &u), 0);
	assert_int_equal(uri("sip:[1:2:3:4:5:::192.0.2.1]", &u), 0);
	for (size_t i = 0; i < sizeof(still_bad) / sizeof(still_bad[0]); i++) {
		if (uri(still_bad[i], &u) != -1)
			fail_msg("%s parsed", still_bad[i]);
	}
	/* the same address as the correct two-colon form */
	assert_true(eq("sip:user@[2001:db8:::192.0.2.1]", "sip:user@[2001:db8::192.0.2.1]"));
	assert_true(eq("sip:user@[2001:db8:::192.0.2.1]", "sip:user@[2001:db8::c000:201]"));
	assert_string_equal(aor("sip:user@[2001:db8:::192.0.2.1]"), "user@[2001:db8::c000:201]");
	/* the Via sent-by goes through the same host rule */
	assert_int_equal(via("SIP/2.0/UDP [2001:db8:::192.0.2.1]:5060;branch=z9hG4bK1", &v), 0);
	assert_sl(v.host, "2001:db8:::192.0.2.1");
	assert_int_equal(v.port, 5060);
	/* a NUL inside the brackets is no address, whatever precedes it */
	assert_int_equal(sip_via_parse(heap_n("SIP/2.0/UDP [::1\0x]", 20), &v), -1);
	assert_int_equal(sip_via_parse(heap_n("SIP/2.0/UDP [2001:db8:::192.0.2.1\0]", 35), &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_uri_full, teardown),
		cmocka_unit_test_teardown(test_uri_minimal, teardown),
		cmocka_unit_test_teardown(test_uri_user_chars, teardown),
		cmocka_unit_test_teardown(test_uri_ipv6, teardown),
		cmocka_unit_test_teardown(test_uri_ipv6_abnf_bug, teardown),
		cmocka_unit_test_teardown(test_uri_other_schemes, teardown),
		cmocka_unit_test_teardown(test_uri_invalid, teardown),
		cmocka_unit_test_teardown(test_naddr_quoted_display, teardown),
		cmocka_unit_test_teardown(test_naddr_token_display, teardown),
		cmocka_unit_test_teardown(test_naddr_addr_spec, teardown),
		cmocka_unit_test_teardown(test_naddr_invalid, teardown),
		cmocka_unit_test_teardown(test_via, teardown),
		cmocka_unit_test_teardown(test_via_invalid, teardown),
		cmocka_unit_test_teardown(test_eq_rfc_equal, teardown),
		cmocka_unit_test_teardown(test_eq_rfc_not_equal, teardown),
		cmocka_unit_test_teardown(test_eq_more, teardown),
		cmocka_unit_test_teardown(test_eq_many_params, teardown),
		cmocka_unit_test_teardown(test_aor, teardown),
		cmocka_unit_test_teardown(test_aor_bounds, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
