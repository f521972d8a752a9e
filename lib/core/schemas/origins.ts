/**
 * The origin a browser would send in `Origin` for `entry` (`https://console.example.com`), or
 * undefined when `entry` is not one: scheme (http or https), host and port, nothing more. A
 * trailing `/`, upper case and a default port are forgiven and normalised away; a path, query,
 * credentials or wildcard are not, since no browser sends them and nothing would match them.
 */
export function originOf(entry: string): string | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return undefined;
  }
  const bare =
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.username === '' &&
    url.password === '' &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    !entry.includes('*') &&
    /^https?:\/\/[^/?#]+\/?$/i.test(entry);
  return bare ? url.origin : undefined;
}

/** An origin exactly as browsers send it, already normalised. */
export function isOrigin(value: string): boolean {
  return originOf(value) === value;
}
