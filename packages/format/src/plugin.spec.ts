/**
 * RFC 8032 section 7.1 test vectors (TEST 1, TEST 2, TEST 3, TEST 1024) for
 * verifyEd25519: each verifies, and a flipped message byte, a flipped byte of
 * R or of S, or a flipped public key byte makes it return false. The hex is
 * copied from the RFC (as in tools/tests/test_ed25519_rfc8032.py); node:crypto
 * re-derives each public key from its secret key and re-signs each message,
 * so a mistyped digit fails loudly here rather than testing a wrong vector.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyEd25519 } from './plugin';

interface Vector {
  name: string;
  /** The 32-byte secret key (seed), hex. */
  secretKey: string;
  publicKey: string;
  /** The message length the RFC states, in bytes. */
  messageLength: number;
  message: string;
  signature: string;
}

const VECTORS: Vector[] = [
  {
    name: 'TEST 1',
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    messageLength: 0,
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' +
      '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    messageLength: 1,
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
      '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secretKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    messageLength: 2,
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac' +
      '18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
  {
    name: 'TEST 1024',
    secretKey: 'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
    publicKey: '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
    messageLength: 1023,
    message:
      '08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98' +
      'fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8' +
      '79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d' +
      '658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc' +
      '1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe' +
      'ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e' +
      '06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef' +
      'efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7' +
      'aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1' +
      '85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2' +
      'd17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24' +
      '554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270' +
      '88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc' +
      '2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07' +
      '07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba' +
      'b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a' +
      'ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e' +
      'c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7' +
      '51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c' +
      '42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8' +
      'ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df' +
      'f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08' +
      'd78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649' +
      'de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4' +
      '88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3' +
      '2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e' +
      '6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f' +
      'b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5' +
      '0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1' +
      '369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d' +
      'b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c' +
      '0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0',
    signature:
      '0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350' +
      'aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03',
  },
];

/** The group order L of edwards25519 (RFC 8032 section 5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
/** `data` with the lowest bit of byte `index` flipped. */
function flip(data: Uint8Array, index: number): Uint8Array {
  const out = Uint8Array.from(data);
  out[index]! ^= 0x01;
  return out;
}

describe('the RFC 8032 vectors as copied here', () => {
  it.each(VECTORS)('$name is internally consistent (checked with node:crypto)', (v) => {
    for (const [field, hex, length] of [['secretKey', v.secretKey, 32], ['publicKey', v.publicKey, 32], ['signature', v.signature, 64], ['message', v.message, v.messageLength]] as const) {
      expect(hex, field).toMatch(/^(?:[0-9a-f]{2})*$/);
      expect(hex.length / 2, `${field} length`).toBe(length);
    }
    const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(v.secretKey, 'hex')]), format: 'der', type: 'pkcs8' });
    const derived = Buffer.from(String(privateKey.export({ format: 'jwk' }).x), 'base64url').toString('hex');
    expect(derived, 'the public key of the secret key').toBe(v.publicKey);
    // Ed25519 is deterministic: the RFC's signature is the only one.
    expect(sign(null, Buffer.from(v.message, 'hex'), privateKey).toString('hex'), 'the signature of the message').toBe(v.signature);
  });
});

describe.each(VECTORS)('verifyEd25519, RFC 8032 $name', (v) => {
  const publicKey = bytes(v.publicKey);
  const signature = bytes(v.signature);
  const message = bytes(v.message);

  it('accepts the vector', async () => {
    expect(await verifyEd25519(publicKey, signature, message)).toBe(true);
  });

  it.each<[what: string, change: () => [Uint8Array, Uint8Array, Uint8Array]]>([
    // TEST 1 signs the empty message: there, one added byte is the change.
    ['a flipped message byte', () => [publicKey, signature, message.length ? flip(message, message.length >> 1) : new Uint8Array([0])]],
    ['a flipped first message byte', () => [publicKey, signature, message.length ? flip(message, 0) : new Uint8Array([1])]],
    ['a flipped last message byte', () => [publicKey, signature, message.length ? flip(message, message.length - 1) : new Uint8Array([0, 0])]],
    ['a flipped signature byte in R', () => [publicKey, flip(signature, 5), message]],
    ['a flipped signature byte in S', () => [publicKey, flip(signature, 40), message]],
    ['a flipped last signature byte', () => [publicKey, flip(signature, 63), message]],
    ['a flipped public key byte', () => [flip(publicKey, 7), signature, message]],
    ['a flipped first public key byte', () => [flip(publicKey, 0), signature, message]],
    ['S + L (same point, non-canonical S)', () => {
      const s = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString('hex')}`) + L;
      const sBytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse();
      return [publicKey, new Uint8Array(Buffer.concat([signature.subarray(0, 32), sBytes])), message];
    }],
    ['a 31-byte public key', () => [publicKey.subarray(0, 31), signature, message]],
    ['a 63-byte signature', () => [publicKey, signature.subarray(0, 63), message]],
    ['another vector\'s public key', () => [bytes(VECTORS.find((o) => o !== v)!.publicKey), signature, message]],
  ])('rejects %s', async (_what, change) => {
    const [k, s, m] = change();
    // The change is real: at least one input differs from the vector.
    expect(Buffer.from(k).equals(Buffer.from(publicKey)) && Buffer.from(s).equals(Buffer.from(signature)) && Buffer.from(m).equals(Buffer.from(message))).toBe(false);
    expect(await verifyEd25519(k, s, m)).toBe(false);
  });
});
