import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { AgentClient, AgentError } from './client.js';
import { isHello } from './protocol.js';

test('isHello knows the agent hello and nothing else', () => {
  assert.equal(isHello('{"v":1,"event":"hello","pid":7,"agent_version":"0.1.0"}'), true);
  assert.equal(isHello('{"v":1,"id":3,"event":"hello"}'), false);
  assert.equal(isHello('{"v":1,"id":3,"event":"started","pid":1}'), false);
  assert.equal(isHello('nope'), false);
});

test('a hello (a restarted agent on the serial port) fails the streamed commands in flight, not the other requests', async () => {
  const sent: string[] = [];
  const wire = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      sent.push(String(chunk));
      cb();
    },
  });
  const client = new AgentClient(wire as unknown as Socket);
  const run = client.execStream({ argv: ['sleep', '100'] }, () => {});
  const health = client.health(5_000);
  wire.push('{"v":1,"event":"hello","pid":42,"agent_version":"x"}\n');
  await assert.rejects(run.done, (e: AgentError) => e.code === 'transport' && /restarted/.test(e.message));
  const healthId = (JSON.parse(sent[1]!) as { id: number }).id;
  wire.push(`{"v":1,"id":${healthId},"ok":true,"result":{"boot_id":"b"}}\n`);
  assert.equal((await health).boot_id, 'b');
  assert.equal(client.closed, false, 'the connection stays: the new agent serves it');
  client.close();
});
