import { VM_TTL_SECONDS, RCODE, type RunningVmLookup } from './answer.js';

/**
 * The hot path of the .vm server: answers a plain one-question query for NAME.vm straight
 * from the wire bytes, with the same answers as answerVmQuery (A for A/ANY, NXDOMAIN for
 * unknown or nested names, NODATA for other types), without decoding the packet into
 * objects. Anything else (other zones, several questions, malformed or compressed names)
 * returns null and takes the general path. The question is echoed byte for byte; an EDNS
 * OPT record in the query is not echoed (a responder may answer without EDNS).
 */
export function fastVmAnswer(msg: Buffer, lookup: RunningVmLookup): Buffer | null {
  if (msg.length < 17) return null;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || (flags >> 11) & 0xf) return null; // a response, or not a standard query
  if (msg.readUInt16BE(4) !== 1 || msg.readUInt16BE(6) !== 0 || msg.readUInt16BE(8) !== 0) return null;
  const labels: string[] = [];
  let o = 12;
  for (;;) {
    if (o >= msg.length) return null;
    const len = msg[o]!;
    if (len === 0) {
      o++;
      break;
    }
    if (len > 63 || o + 1 + len > msg.length) return null; // compression pointers do not belong in a question
    labels.push(msg.toString('latin1', o + 1, o + 1 + len).toLowerCase());
    o += 1 + len;
  }
  if (o + 4 > msg.length || labels.length === 0 || labels[labels.length - 1] !== 'vm') return null;
  const qtype = msg.readUInt16BE(o);
  const qclass = msg.readUInt16BE(o + 2);
  if (qclass !== 1) return null;
  const questionEnd = o + 4;
  const ip = labels.length === 2 ? lookup(labels[0]!) : null;
  const withA = ip !== null && (qtype === 1 || qtype === 255);
  const out = Buffer.allocUnsafe(questionEnd + (withA ? 16 : 0));
  msg.copy(out, 0, 0, 2); // id
  // QR | AA | RD echoed | RA, and the response code.
  out.writeUInt16BE(0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | (ip === null ? RCODE.NXDOMAIN : RCODE.NOERROR), 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(withA ? 1 : 0, 6);
  out.writeUInt32BE(0, 8); // no authority, no additional records
  msg.copy(out, 12, 12, questionEnd);
  if (withA) {
    let a = questionEnd;
    out.writeUInt16BE(0xc00c, a); // the name: a pointer to the question's
    out.writeUInt16BE(1, a + 2);
    out.writeUInt16BE(1, a + 4);
    out.writeUInt32BE(VM_TTL_SECONDS, a + 6);
    out.writeUInt16BE(4, a + 10);
    a += 12;
    for (const part of ip!.split('.')) out[a++] = Number(part);
  }
  return out;
}
