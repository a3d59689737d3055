/**
 * The Host header check that stops DNS rebinding: a page on another origin whose name resolves to
 * this machine sends its own name as Host, so only loopback names and the names the server was
 * told to serve (its --host) are answered. Ports are not checked: the name is what rebinding forges.
 */
import { networkInterfaces } from 'node:os';

/** Host names always accepted: loopback. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** A bind address or name as it appears in a Host header (IPv6 in brackets, lower case). */
export function hostForm(host: string): string {
  const h = host.trim().toLowerCase();
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

/**
 * The host names a server bound to `bindHost` answers: loopback, the bind host itself, and for a
 * wildcard bind (0.0.0.0, ::) every address of this machine's interfaces.
 */
export function allowedHostsFor(bindHost: string | undefined, extra: readonly string[] = []): string[] {
  const out = new Set<string>(LOOPBACK_HOSTS);
  for (const h of [bindHost ?? '', ...extra]) if (h) out.add(hostForm(h));
  if (bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '[::]') {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(hostForm(a.address));
  }
  return [...out];
}

/** The host name of a Host header value (`name`, `name:port`, `[v6]:port`), or undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (header === undefined || header.length > 300) return undefined;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.exec(header);
  return m ? m[1].toLowerCase() : undefined;
}

/** Why a request with this Host header is refused, or undefined when it is accepted. */
export function hostProblem(header: string | undefined, allowed: readonly string[]): string | undefined {
  if (header === undefined || header === '') return 'the request has no Host header';
  const name = hostName(header);
  const shown = JSON.stringify(header.slice(0, 60));
  if (name === undefined) return `malformed Host header ${shown}`;
  if (!allowed.includes(name)) return `host ${shown} is not served here; open the viewer at http://127.0.0.1:PORT/ or start it with --host ${name.slice(0, 60)}`;
  return undefined;
}
