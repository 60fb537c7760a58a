/**
 * A throwaway PKI made with the openssl command line (`openssl ca`, so that its index file can
 * drive `openssl ocsp` and `openssl ca -gencrl`): a CA, server certificates with an OCSP URL,
 * client certificates with a CRL distribution point and SANs, an OCSP signer. EC keys (fast).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  file(name: string): string;
  read(name: string): Buffer;
  /** Issues `<name>.crt`/`<name>.key` with the given extension section and subject CN. */
  issue(name: string, cn: string, ext: 'server_ext' | 'client_ext' | 'ocsp_ext' | 'ca_ext'): { cert: string; key: string };
  /** Signs a client certificate `<name>.crt` with the intermediate CA `<issuer>` (made with `ca_ext`). */
  issueUnder(issuer: string, name: string, cn: string): void;
  revoke(name: string): void;
  /** Writes `ca.crl.pem` and `ca.crl.der` from the index; returns the DER path. */
  gencrl(): string;
  cleanup(): void;
}

export interface PkiOptions {
  /** URL put in client certificates' CRL distribution points. */
  crlUrl?: string;
  /** URL put in server certificates' Authority Information Access. */
  ocspUrl?: string;
  /** Extra SAN entries of client certificates, e.g. `DNS:device-7.example,email:d7@example.com`. */
  clientSan?: string;
}

export function makePki(o: PkiOptions = {}): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'junction-tls-pki-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  mkdirSync(join(dir, 'newcerts'));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  const clientExt = ['extendedKeyUsage = clientAuth'];
  if (o.crlUrl) clientExt.push(`crlDistributionPoints = URI:${o.crlUrl}`);
  if (o.clientSan) clientExt.push(`subjectAltName = ${o.clientSan}`);
  const serverExt = ['extendedKeyUsage = serverAuth', 'subjectAltName = IP:127.0.0.1,DNS:localhost'];
  if (o.ocspUrl) serverExt.push(`authorityInfoAccess = OCSP;URI:${o.ocspUrl}`);
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ ca ]',
      'default_ca = CA_default',
      '[ CA_default ]',
      'dir = .',
      'database = index.txt',
      'new_certs_dir = newcerts',
      'certificate = ca.crt',
      'private_key = ca.key',
      'serial = serial',
      'crlnumber = crlnumber',
      'default_md = sha256',
      'default_days = 2',
      'default_crl_days = 2',
      'policy = policy_any',
      'copy_extensions = none',
      'unique_subject = no',
      '[ policy_any ]',
      'commonName = supplied',
      '[ server_ext ]',
      ...serverExt,
      '[ client_ext ]',
      ...clientExt,
      '[ ocsp_ext ]',
      'extendedKeyUsage = OCSPSigning',
      '[ ca_ext ]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      '',
    ].join('\n'),
  );
  ssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=Junction TLS Test CA', '-keyout', 'ca.key', '-out', 'ca.crt', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const pki: Pki = {
    dir,
    file: (name) => join(dir, name),
    read: (name) => readFileSync(join(dir, name)),
    issue(name, cn, ext) {
      ssl('req', ...ec, '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      ssl('ca', '-batch', '-config', 'ca.cnf', '-extensions', ext, '-notext', '-in', `${name}.csr`, '-out', `${name}.crt`);
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    },
    issueUnder(issuer, name, cn) {
      writeFileSync(join(dir, `${name}.ext`), 'extendedKeyUsage = clientAuth\n');
      ssl('req', ...ec, '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-set_serial', '0x7001', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
    },
    revoke(name) {
      ssl('ca', '-config', 'ca.cnf', '-revoke', `${name}.crt`);
    },
    gencrl() {
      ssl('ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl.pem');
      ssl('crl', '-in', 'ca.crl.pem', '-outform', 'DER', '-out', 'ca.crl.der');
      return join(dir, 'ca.crl.der');
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return pki;
}

/** `openssl ocsp` as a responder for the PKI's index on 127.0.0.1:`port`. */
export async function startOcspResponder(pki: Pki, port: number): Promise<{ stop(): Promise<void> }> {
  pki.issue('ocsp', 'Junction OCSP signer', 'ocsp_ext');
  const child: ChildProcess = spawn(
    'openssl',
    ['ocsp', '-index', 'index.txt', '-port', String(port), '-rsigner', 'ocsp.crt', '-rkey', 'ocsp.key', '-CA', 'ca.crt', '-ndays', '1', '-timeout', '5'],
    { cwd: pki.dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // It says when it listens (a bare TCP probe would hold the single-threaded responder).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openssl ocsp did not start: ${stderr}`)), 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('waiting for OCSP client connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`openssl ocsp exited: ${stderr}`));
    });
  });
  return {
    async stop() {
      if (child.exitCode === null) child.kill();
      await exited;
    },
  };
}

/** Status lines of a DER OCSP response as `openssl ocsp -respin` prints and verifies it. */
export function describeOcspResponse(pki: Pki, der: Buffer): string {
  const path = pki.file(`resp-${Date.now()}-${Math.random().toString(36).slice(2)}.der`);
  writeFileSync(path, der);
  const r = spawnSync('openssl', ['ocsp', '-respin', path, '-resp_text', '-CAfile', pki.file('ca.crt')], { cwd: pki.dir });
  return `${r.stdout.toString()}\n${r.stderr.toString()}`;
}
