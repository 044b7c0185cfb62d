// fauxqs is an ES module; it runs in its own process so CommonJS callers (Jest, tsx) can use it.
import { startFauxqs } from 'fauxqs';

const port = Number(process.env.FAUXQS_PORT ?? 0);
const server = await startFauxqs({ port, host: '127.0.0.1', logger: false });
process.stdout.write(`FAUXQS_READY ${server.address}\n`);
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
