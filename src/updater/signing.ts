/**
 * Release signatures (docs/howto/system-install.md): ECDSA P-256 over SHA-256 of SHA256SUMS, DER-encoded and
 * base64'd, which is what `cosign sign-blob` and `openssl dgst -sha256 -sign` produce and
 * what `openssl dgst -sha256 -verify pub.pem -signature <(base64 -d sig)` checks.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { BangerError } from '../model/index.js';

export function signSums(sums: Buffer | string, privateKeyPem: string): string {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error('the release key must be an ECDSA P-256 key');
  return sign('sha256', Buffer.from(sums), { key, dsaEncoding: 'der' }).toString('base64');
}

/** A key that is not a real P-256 public key (the placeholder of a build without one) is null. */
export function releasePublicKey(pem: string): ReturnType<typeof createPublicKey> | null {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? key : null;
  } catch {
    return null;
  }
}

export function verifySums(sums: Buffer | string, signatureBase64: string, publicKeyPem: string): boolean {
  const key = releasePublicKey(publicKeyPem);
  if (!key) return false;
  const sig = Buffer.from(signatureBase64.trim(), 'base64');
  if (sig.length === 0) return false;
  try {
    return verify('sha256', Buffer.from(sums), { key, dsaEncoding: 'der' }, sig);
  } catch {
    return false;
  }
}

export const sha256Hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** SHA256SUMS text: GNU lines "<hex>  <file>" (what sha256sum writes). */
export function renderSums(entries: ReadonlyArray<{ file: string; sha256: string }>): string {
  return entries.map((e) => `${e.sha256}  ${e.file}\n`).join('');
}

/** Parses GNU ("<hex>  file", "<hex> *file") and BSD ("SHA256 (file) = <hex>") lines. */
export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const gnu = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    const bsd = /^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$/.exec(line.trim());
    if (gnu) out.set(gnu[2]!, gnu[1]!.toLowerCase());
    else if (bsd) out.set(bsd[1]!, bsd[2]!.toLowerCase());
  }
  return out;
}

/** The release tarball's file name, as SHA256SUMS lists it. */
export const tarballName = (version: string) => `banger-${version.replace(/^v/, '')}-linux-x64.tar.gz`;

/**
 * The SHA-256 that a (verified) SHA256SUMS gives the tarball of `version`. The signature
 * covers SHA256SUMS, not the manifest, so this is what binds the version: the sums must list
 * that release's tarball, and no tarball of another release. A manifest entry for vX that
 * points at the genuine signed files of vY is refused here, saying so.
 */
export function signedTarballHash(sumsText: string, version: string): string {
  const bareVersion = version.replace(/^v/, '');
  const name = tarballName(bareVersion);
  const sums = parseSums(sumsText);
  const others = [...sums.keys()].filter(
    (f) => /^banger-.*\.tar\.gz$/.test(f) && !f.startsWith(`banger-${bareVersion}-`),
  );
  if (others.length) {
    throw new BangerError(
      'unauthorized',
      `the signature covers another release (its SHA256SUMS lists ${others.slice(0, 3).join(', ')}), not v${bareVersion}; refusing it`,
      {
        hint: 'the manifest entry points at the signed files of a different version; nothing was changed',
      },
    );
  }
  const hash = sums.get(name);
  if (!hash)
    throw new BangerError(
      'unauthorized',
      `the signed SHA256SUMS has no line for ${name}, so the signature does not cover v${bareVersion}; refusing it`,
    );
  return hash;
}
