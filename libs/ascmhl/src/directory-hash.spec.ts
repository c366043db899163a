import { computeDirectoryHashes, hashOfHashList, structureElementHash } from './directory-hash';
import { hashBytes } from './hash-formats';

/**
 * Expected values are the ones the ASC reference tool (ascmitc/mhl) published for its example
 * scenarios (examples/scenarios/README.md): file hashes in, directory hashes out. The reference
 * tool itself cannot be installed here (no PyPI), so these published numbers are the oracle.
 */
describe('directory hashes (ASC reference values)', () => {
  // Card A002R2EC: Clips/A002C006_141024_R2EC.mov, Clips/A002C007_141024_R2EC.mov, Sidecar.txt
  const a002 = {
    xxh64: { c006: '0ea03b369a463d9d', c007: '7680e5f98f4a80fd', sidecar: '3ab5a4166b9bde44' },
    md5: {
      c006: 'f5ac8127b3b6b85cdc13f237c6005d80',
      c007: '614dd0e977becb4c6f7fa99e64549b12',
      sidecar: '6425c5a180ca0f420dd2b25be4536a91',
    },
  };
  const card = (f: 'xxh64' | 'md5', sidecar = a002[f].sidecar, prefix = '') => [
    { path: `${prefix}Clips/A002C006_141024_R2EC.mov`, hashes: { [f]: a002[f].c006 } },
    { path: `${prefix}Clips/A002C007_141024_R2EC.mov`, hashes: { [f]: a002[f].c007 } },
    { path: `${prefix}Sidecar.txt`, hashes: { [f]: sidecar } },
  ];

  it('scenario 01/02: xxh64 content and structure hashes of Clips and of the card folder', () => {
    const t = computeDirectoryHashes(card('xxh64'), ['xxh64']);
    expect(t.directories.get('Clips')?.xxh64).toEqual({ content: '4c226b42e27d7af3', structure: '906faa843d591a9f' });
    expect(t.root.xxh64).toEqual({ content: '8d02114c32e28cbe', structure: 'f557f8ca8e5a88ef' });
  });

  it('scenario 03: the same in md5', () => {
    const t = computeDirectoryHashes(card('md5'), ['md5']);
    expect(t.directories.get('Clips')?.md5).toEqual({
      content: '202a2d71b56b080d9b089c1f4f29a4ba',
      structure: '4a739024fd19d928e9dea6bb5c480200',
    });
    expect(t.root.md5).toEqual({ content: '6fae2da9bc6dca45486cb91bfea6db70', structure: 'be1f2eaed208efbed061845a64cacdfa' });
  });

  it('scenario 04: a changed Sidecar.txt changes both root hashes (its hash is part of the structure hash too)', () => {
    const t = computeDirectoryHashes(card('xxh64', '70d2cf31aaa3eac4'), ['xxh64']);
    expect(t.directories.get('Clips')?.xxh64).toEqual({ content: '4c226b42e27d7af3', structure: '906faa843d591a9f' });
    expect(t.root.xxh64).toEqual({ content: '8e52e9c3d15e055c', structure: '32706d5f4b48f047' });
  });

  it('scenario 05: two cards in a Reels folder plus Summary.txt, nested folder hashes', () => {
    const a003 = [
      { path: 'A003R2EC/Clips/A003C011_141024_R2EC.mov', hashes: { xxh64: '52392f79a36d6571' } },
      { path: 'A003R2EC/Clips/A003C012_141024_R2EC.mov', hashes: { xxh64: '5dbca064ddddd6fc' } },
      { path: 'A003R2EC/Sidecar.txt', hashes: { xxh64: 'e5dda75a353d8b34' } },
    ];
    const reels = [...card('xxh64', undefined, 'A002R2EC/'), ...a003, { path: 'Summary.txt', hashes: { xxh64: '0ac48e431d4538ba' } }];
    const t = computeDirectoryHashes(reels, ['xxh64']);
    expect(t.directories.get('A002R2EC/Clips')?.xxh64).toEqual({ content: '4c226b42e27d7af3', structure: '906faa843d591a9f' });
    expect(t.directories.get('A002R2EC')?.xxh64).toEqual({ content: '8d02114c32e28cbe', structure: 'f557f8ca8e5a88ef' });
    expect(t.directories.get('A003R2EC/Clips')?.xxh64).toEqual({ content: 'f2afc6434255a53d', structure: 'a25d5ca89c95f9e2' });
    expect(t.directories.get('A003R2EC')?.xxh64).toEqual({ content: '7a82373c131cf40a', structure: '1131a950fcc55e4b' });
    expect(t.root.xxh64).toEqual({ content: '92950bc8fda076ec', structure: '2c2ce52605558158' });
  });

  it('the content hash ignores names and order; the structure hash sees a rename', () => {
    const files = card('xxh64');
    const shuffled = [files[2], files[0], files[1]];
    expect(computeDirectoryHashes(shuffled, ['xxh64']).root).toEqual(computeDirectoryHashes(files, ['xxh64']).root);
    const renamed = files.map((f) => (f.path === 'Sidecar.txt' ? { ...f, path: 'Notes.txt' } : f));
    const r = computeDirectoryHashes(renamed, ['xxh64']).root.xxh64;
    expect(r?.content).toBe('8d02114c32e28cbe');
    expect(r?.structure).not.toBe('f557f8ca8e5a88ef');
  });

  it('an empty folder hashes zero bytes; building blocks are what the rules say', () => {
    const t = computeDirectoryHashes([], ['xxh64', 'md5'], ['Empty']);
    expect(t.directories.get('Empty')).toEqual({
      xxh64: { content: 'ef46db3751d8e999', structure: 'ef46db3751d8e999' },
      md5: { content: 'd41d8cd98f00b204e9800998ecf8427e', structure: 'd41d8cd98f00b204e9800998ecf8427e' },
    });
    expect(hashOfHashList('xxh64', ['7680e5f98f4a80fd', '0ea03b369a463d9d'])).toBe(
      hashBytes('xxh64', Buffer.from('0ea03b369a463d9d7680e5f98f4a80fd', 'hex')),
    );
    expect(structureElementHash('xxh64', 'Sidecar.txt', '3ab5a4166b9bde44')).toBe(
      hashBytes('xxh64', Buffer.concat([Buffer.from('Sidecar.txt'), Buffer.from('3ab5a4166b9bde44', 'hex')])),
    );
  });

  it('works in every format, c4 included (64-byte digests behind the 90-character IDs)', () => {
    const files = [
      {
        path: 'a/x',
        hashes: {
          c4: hashBytes('c4', Buffer.from('x')),
          xxh128: hashBytes('xxh128', Buffer.from('x')),
          xxh3: hashBytes('xxh3', Buffer.from('x')),
          sha1: hashBytes('sha1', Buffer.from('x')),
        },
      },
      {
        path: 'y',
        hashes: {
          c4: hashBytes('c4', Buffer.from('y')),
          xxh128: hashBytes('xxh128', Buffer.from('y')),
          xxh3: hashBytes('xxh3', Buffer.from('y')),
          sha1: hashBytes('sha1', Buffer.from('y')),
        },
      },
    ];
    const t = computeDirectoryHashes(files, ['c4', 'sha1', 'xxh128', 'xxh3']);
    expect(t.root.c4?.content).toMatch(/^c4[1-9A-HJ-NP-Za-km-z]{88}$/);
    expect(t.root.xxh128?.structure).toMatch(/^[0-9a-f]{32}$/);
    expect(t.directories.get('a')?.sha1?.content).toBe(hashBytes('sha1', Buffer.from(hashBytes('sha1', Buffer.from('x')), 'hex')));
  });

  it('refuses a file without the format, and a path that is both file and folder', () => {
    expect(() => computeDirectoryHashes([{ path: 'a', hashes: { md5: 'd41d8cd98f00b204e9800998ecf8427e' } }], ['xxh64'])).toThrow(
      /no xxh64 hash/,
    );
    expect(() =>
      computeDirectoryHashes(
        [
          { path: 'a', hashes: { xxh64: 'ef46db3751d8e999' } },
          { path: 'a/b', hashes: { xxh64: 'ef46db3751d8e999' } },
        ],
        ['xxh64'],
      ),
    ).toThrow(/both a file and a folder|appears twice/);
  });
});
