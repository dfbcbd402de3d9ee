// The supervisor's Unix socket: requests in, answers out, one bad client harming no one else.
import { chmodSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { constants } from 'node:os';
import { peerCredentials } from '../host/peer-credentials.js';
import { LineDecoder } from '../protocol/framing.js';
import { PROTOCOL_VERSION, type Request, type Response, type StreamEvent, isOperation, isResourceType } from '../protocol/messages.js';
import type { Launch } from '../launcher/launch.js';
import { type Peer, Refused, type Supervisor, errorReply } from './supervisor.js';

/** Checks a parsed line is a request of this protocol version; names what is wrong if not. */
function validate(value: unknown): Request {
  const r = value as Partial<Request> & { type?: unknown };
  if (typeof r !== 'object' || r === null) throw new Refused('EINVAL', 'request: not a JSON object');
  if (r.v !== PROTOCOL_VERSION) throw new Refused('EINVAL', `request: protocol version ${JSON.stringify(r.v)} is not ${PROTOCOL_VERSION}`);
  if (typeof r.id !== 'number') throw new Refused('EINVAL', 'request: "id" must be a number');
  if (r.op === 'create' && !isResourceType(r.type)) throw new Refused('EINVAL', `request: unknown resource type ${JSON.stringify(r.type)}`);
  if (!isOperation(r.op)) {
    throw new Refused('EINVAL', `request: unknown operation ${JSON.stringify(r.op)}`);
  }
  return r as Request;
}

/** Bytes of stream output a connection may hold unsent before its processes are paused. */
const OUTPUT_HIGH_WATER = 1 << 20;

function peerOf(socket: Socket): Peer {
  // NOTE: Node does not expose SO_PEERCRED; the pipe handle's fd is asked directly.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
  const cred = peerCredentials(fd);
  return cred ? { pid: cred.pid, uid: cred.uid } : { pid: 0, uid: -1 };
}

export function serveSocket(path: string, supervisor: Supervisor, onShutdown: () => void): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer((socket) => {
    const peer = peerOf(socket);
    const decoder = new LineDecoder();
    const send = (response: Response) => socket.write(`${JSON.stringify(response)}\n`);
    // NOTE: a run's or an exec's connection carries its stream; input for a process that is
    // still starting is held until it has started.
    const streams = new Map<number, Launch | Request[]>();
    // NOTE: output flows at the client's pace: over OUTPUT_HIGH_WATER bytes not yet taken by the
    // socket, every process streaming on this connection is paused until the socket drains.
    const launches = new Set<Launch>();
    const behind = () => socket.writableLength > OUTPUT_HIGH_WATER;
    // NOTE: a client gone for good reads nothing more: its processes' output then flows (to
    // nowhere), so that none waits forever on a paused terminal or pipe.
    const resumeAll = () => {
      for (const l of launches) l.resume();
    };
    socket.on('drain', resumeAll);
    socket.on('close', resumeAll);
    const toProcess = (launch: Launch, r: Request) => {
      if (r.op === 'input') launch.write(Buffer.from(r.data, 'base64'));
      else if (r.op === 'eof') launch.end();
      else if (r.op === 'resize') launch.resize(r.rows, r.cols);
      else if (r.op === 'signal') {
        if (r.signal in constants.signals) launch.kill(r.signal as NodeJS.Signals);
        else send({ v: 1, id: r.id, ok: false, error: { code: 'EINVAL', message: `unknown signal ${JSON.stringify(r.signal)}` } });
      }
    };
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) {
        if ('oversized' in frame) {
          send({ v: 1, id: 0, ok: false, error: { code: 'EINVAL', message: 'request: longer than the protocol allows' } });
          continue;
        }
        let id = 0;
        let request: Request;
        try {
          const parsed: unknown = JSON.parse(frame.line);
          id = typeof (parsed as { id?: unknown })?.id === 'number' ? (parsed as { id: number }).id : 0;
          request = validate(parsed);
        } catch (err) {
          send({ v: 1, id, ok: false, error: err instanceof SyntaxError ? { code: 'EINVAL', message: 'request: not valid JSON' } : errorReply(err) });
          continue;
        }
        if (request.op === 'run' && request.detach) {
          // NOTE: a detached container's output goes nowhere; the answer is its name and PIDs.
          supervisor.run(request, peer, () => {}).then(
            ({ started }) => send({ v: 1, id: request.id, ok: true, result: started }),
            (err: unknown) => send({ v: 1, id: request.id, ok: false, error: errorReply(err) }),
          );
          continue;
        }
        if (request.op === 'run' || request.op === 'exec') {
          const held: Request[] = [];
          streams.set(request.id, held);
          const emit = (event: StreamEvent) => {
            if (!socket.writable) return;
            socket.write(`${JSON.stringify(event)}\n`);
            if (event.event === 'exit') {
              const ended = streams.get(event.id);
              if (ended && !Array.isArray(ended)) launches.delete(ended);
            } else if (behind()) {
              for (const l of launches) l.pause();
            }
          };
          const starting = request.op === 'run' ? supervisor.run(request, peer, emit) : supervisor.exec(request, peer, emit);
          starting.then(
            ({ started, process }) => {
              emit({ v: 1, id: request.id, event: 'started', name: started.name, hostPid: started.hostPid, containerPid: started.containerPid, trace: started.trace });
              streams.set(request.id, process);
              launches.add(process);
              if (behind()) process.pause();
              for (const r of held) toProcess(process, r);
              // NOTE: a client that goes away takes its process with it.
              if (socket.destroyed) process.kill('SIGHUP');
              else socket.on('close', () => process.kill('SIGHUP'));
            },
            (err: unknown) => {
              streams.delete(request.id);
              send({ v: 1, id: request.id, ok: false, error: errorReply(err) });
            },
          );
          continue;
        }
        if (request.op === 'input' || request.op === 'eof' || request.op === 'resize' || request.op === 'signal') {
          const target = streams.get(request.id);
          if (!target) send({ v: 1, id: request.id, ok: false, error: { code: 'ENOENT', message: `no run ${request.id} on this connection` } });
          else if (Array.isArray(target)) target.push(request);
          else toProcess(target, request);
          continue;
        }
        supervisor.handle(request, peer).then(
          (result) => {
            send({ v: 1, id: request.id, ok: true, result });
            if (request.op === 'shutdown') socket.end(onShutdown);
          },
          (err: unknown) => send({ v: 1, id: request.id, ok: false, error: errorReply(err) }),
        );
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(path, () => {
      chmodSync(path, 0o600);
      resolve(server);
    }),
  );
}
