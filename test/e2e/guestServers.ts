/**
 * Small TCP services to run inside a default-image guest, for the forward e2e and bench:
 * the image has no python or netcat, but Debian's perl-base (Essential) is always there.
 * Each program takes its port as the first argument and listens on every guest address.
 */
import type { Sandbox } from '../integration/harness.js';

const LISTEN =
  'use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => $ARGV[0], Listen => 16, ReuseAddr => 1) or die "listen: $!";';

/** An HTTP server answering every request with `hello from HOSTNAME`; with a second argument `once`, it exits after one. */
export const HTTP_SERVER_PL = `${LISTEN}
chomp(my $h = \`hostname\`);
while (my $c = $s->accept) {
  while (my $l = <$c>) { last if $l =~ /^\\r?\\n$/ }
  my $b = "hello from $h\\n";
  print $c "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: " . length($b) . "\\r\\n\\r\\n$b";
  close $c;
  exit 0 if ($ARGV[1] // '') eq 'once';
}`;

/** A source: each connection gets ARGV[1] MiB of zeros, then the server closes it. */
export const SOURCE_PL = `${LISTEN}
my $buf = "\\0" x 262144; my $n = $ARGV[1] * 4;
while (my $c = $s->accept) { for (1 .. $n) { my $o = 0; while ($o < length $buf) { my $w = syswrite($c, $buf, length($buf) - $o, $o); last unless defined $w; $o += $w } } close $c }`;

/** A sink: reads each connection to its end, then answers with the byte count. */
export const SINK_PL = `${LISTEN}
while (my $c = $s->accept) { my ($t, $buf) = (0, ''); while (my $r = sysread($c, $buf, 262144)) { $t += $r } print $c "$t\\n"; close $c }`;

/** Starts `program` in the guest in the background (it outlives the ssh session). */
export async function startInGuest(s: Sandbox, vm: string, program: string, args: readonly string[]): Promise<void> {
  const r = await s.banger(
    ['vm', 'ssh', vm, '--', 'sh', '-c', 'nohup perl -e "$0" "$@" >/tmp/srv.log 2>&1 </dev/null &', program, ...args],
    { timeoutMs: 120_000 },
  );
  if (r.code !== 0) throw new Error(`starting a guest server in ${vm} failed (${r.code}): ${r.stderr}`);
}
