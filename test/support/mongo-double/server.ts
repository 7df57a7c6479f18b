/** TCP listener: frames bytes into commands, runs them in arrival order per connection, writes replies. */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { CommandRouter } from './commands';
import { decodeMessage, encodeReply, MessageFramer } from './wire';

export interface WireServer {
  port: number;
  close(): Promise<void>;
}

export async function listen(router: CommandRouter, port: number): Promise<WireServer> {
  const sockets = new Set<Socket>();
  let nextConnectionId = 1;
  const server: Server = createServer((socket) => {
    const connectionId = nextConnectionId++;
    const framer = new MessageFramer();
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const raw of framer.push(chunk)) {
          const request = decodeMessage(raw);
          const reply = router.run(request.command, connectionId);
          if (!request.noReply) socket.write(encodeReply(request, reply));
        }
      } catch {
        // A malformed stream cannot be resynchronised; MongoDB closes the connection too.
        socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
