import { z } from 'zod';

/**
 * The guest agent's `health` answer (docs/reference/agent.md), as the agent sends
 * it and as `vm.show` passes it on. `transport` is the channel it came over: serial, vsock
 * or stdio (kept a string on the wire, so a newer agent's transport does not fail an older
 * client).
 */
export const agentHealthSchema = z.object({
  boot_id: z.string(),
  uptime_s: z.number(),
  hostname: z.string(),
  agent_version: z.string(),
  protocol: z.number(),
  transport: z.string(),
  pid: z.number(),
});
export type AgentHealth = z.infer<typeof agentHealthSchema>;
