// A userspace TCP delay proxy (the kernel here has no netem; shared/test-infra.md §3). Every chunk
// is forwarded DELAY ms later, in order, in both directions. Usage:
//   node delay-proxy.mjs DELAY_MS TARGET_HOST TARGET_PORT
// Prints "listening PORT" once ready, then one JSON line per closed connection with the number of
// direction changes ("turns") seen on it: two turns are about one round trip.
import net from 'node:net';

const [delay, host, port] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const server = net.createServer((client) => {
  const upstream = net.connect(port, host);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  let last = '';
  let turns = 0;
  const pipe = (from, to, dir) => {
    from.on('data', (chunk) => {
      if (dir !== last) {
        if (last) turns++;
        last = dir;
      }
      setTimeout(() => to.writable && to.write(chunk), delay);
    });
    from.on('end', () => setTimeout(() => to.end(), delay));
    from.on('error', () => to.destroy());
  };
  pipe(client, upstream, 'up');
  pipe(upstream, client, 'down');
  client.on('close', () => console.log(JSON.stringify({ turns })));
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
