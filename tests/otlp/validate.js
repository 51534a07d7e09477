#!/usr/bin/env node
// validate.js - checks OTLP/JSON (skm export --format otlp-json, one
// ExportTraceServiceRequest per line, on stdin) with OpenTelemetry's own
// code: the protobuf classes generated from opentelemetry-proto that
// @opentelemetry/otlp-transformer ships.
//
// Each line is read as the OTLP/JSON mapping says (the protobuf JSON
// mapping, with trace and span ids in hex), verified, turned into the
// protobuf message, encoded to the binary wire format, decoded again and
// turned back into JSON; that must give the line back exactly, so a
// misspelt or unknown field, a wrong type or a lost value fails.  Then
// what OTLP asks beyond the schema: 16-byte trace ids, 8-byte span ids,
// never all zero, one trace per line, times as decimal strings, a start
// not after the end, a parent in the same trace.
//
// Prints one line per span: "traceId spanId parentSpanId|- name code"
// for the test to compare with the store; exits 1 on the first problem.
'use strict';
const assert = require('assert');
const readline = require('readline');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const ID_FIELDS = { traceId: 32, spanId: 16, parentSpanId: 16 };

// The spans of a request, wherever they are.
function spansOf(req) {
	const out = [];
	for (const rs of req.resourceSpans || [])
		for (const ss of rs.scopeSpans || [])
			for (const s of ss.spans || [])
				out.push(s);
	return out;
}

// Hex ids to bytes (how OTLP/JSON differs from the plain protobuf mapping).
function idsToBytes(req, where) {
	for (const s of spansOf(req)) {
		for (const [k, len] of Object.entries(ID_FIELDS)) {
			if (!(k in s))
				continue;
			assert.match(s[k], new RegExp(`^[0-9a-f]{${len}}$`),
			    `${where}: ${k} ${s[k]} is not ${len} lower-case hex digits`);
			assert.doesNotMatch(s[k], /^0+$/, `${where}: ${k} is all zero`);
			s[k] = Buffer.from(s[k], 'hex');
		}
	}
	return req;
}

function idsToHex(req) {
	for (const s of spansOf(req))
		for (const k of Object.keys(ID_FIELDS))
			if (k in s)
				s[k] = Buffer.from(s[k]).toString('hex');
	return req;
}

function check(line, n) {
	const where = `line ${n}`;
	const doc = JSON.parse(line);
	const bytes = idsToBytes(JSON.parse(line), where);
	const msg = Request.fromObject(bytes);
	const err = Request.verify(msg);
	assert.strictEqual(err, null, `${where}: not an ExportTraceServiceRequest: ${err}`);
	const wire = Request.encode(msg).finish();
	const back = idsToHex(Request.toObject(Request.decode(wire),
	    { longs: String, enums: Number }));
	assert.deepStrictEqual(back, doc, `${where}: does not survive the protobuf round trip`);

	const spans = spansOf(doc);
	assert.ok(spans.length > 0, `${where}: no spans`);
	const trace = spans[0].traceId;
	const ids = new Set(spans.map((s) => s.spanId));
	assert.strictEqual(ids.size, spans.length, `${where}: a span id twice`);
	for (const s of spans) {
		assert.strictEqual(s.traceId, trace, `${where}: two traces on one line`);
		for (const k of ['startTimeUnixNano', 'endTimeUnixNano'])
			assert.match(s[k], /^[1-9][0-9]*$/, `${where}: ${k} is not a decimal string`);
		assert.ok(BigInt(s.startTimeUnixNano) <= BigInt(s.endTimeUnixNano),
		    `${where}: span ${s.spanId} ends before it starts`);
		assert.ok(typeof s.name === 'string' && s.name.length > 0, `${where}: no name`);
		const code = s.status && s.status.code ? s.status.code : 0;
		console.log(`${s.traceId} ${s.spanId} ${s.parentSpanId || '-'} ${s.name} ${code}`);
	}
	const rs = doc.resourceSpans;
	const svc = rs[0].resource.attributes.find((a) => a.key === 'service.name');
	assert.ok(svc && svc.value.stringValue === 'skm', `${where}: service.name is not skm`);
}

async function main() {
	const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
	let n = 0;
	for await (const line of rl) {
		n++;
		check(line, n);
	}
	if (n === 0)
		throw new Error('no input');
}

main().catch((e) => {
	console.error(`otlp: ${e.message}`);
	process.exit(1);
});
