import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c4IdOf } from './c4';
import { computeDirectoryHashes } from './directory-hash';
import { requiredFormats, verifyAgainstHistory } from './mhl-history';
import { assembleHistory, parseChainXml, parseGenerationXml, readCardHistory } from './mhl-reader';
import { sealCardFolder } from './mhl-seal';
import { writeCardFiles, scanCard } from './testing/fake-card';
import {
  FOREIGN_CARD_FOLDER,
  FOREIGN_CHAIN,
  FOREIGN_GENERATION,
  FOREIGN_GENERATION_C4,
  FOREIGN_GENERATION_NAME,
  FOREIGN_MEDIA,
} from './testing/foreign-history.fixture';
import { CHAIN_XSD, GENERATION_XSD, assertValidAgainstXsd } from './testing/xmllint';

describe('ASC MHL: a history written by another tool', () => {
  let tmp: string;
  let card: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'sv-ascmhl-foreign-'));
    card = join(tmp, FOREIGN_CARD_FOLDER);
    await writeCardFiles(card, FOREIGN_MEDIA);
    await mkdir(join(card, 'ascmhl'));
    await writeFile(join(card, 'ascmhl', FOREIGN_GENERATION_NAME), FOREIGN_GENERATION);
    await writeFile(join(card, 'ascmhl', 'ascmhl_chain.xml'), FOREIGN_CHAIN);
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('the fixture is valid ASC MHL and its chain matches it', () => {
    assertValidAgainstXsd(GENERATION_XSD, join(card, 'ascmhl', FOREIGN_GENERATION_NAME));
    assertValidAgainstXsd(CHAIN_XSD, join(card, 'ascmhl', 'ascmhl_chain.xml'));
    expect(c4IdOf(FOREIGN_GENERATION)).toBe(FOREIGN_GENERATION_C4);
  });

  it('reads it into a history: creator, process, files with xxh64 and md5, consistent directory hashes', async () => {
    const history = await readCardHistory(card);
    expect(history.intact).toBe(true);
    expect(history.generations).toHaveLength(1);
    const doc = history.generations[0].document;
    expect(doc.creator).toEqual({
      creationDate: '2023-01-01T10:15:00Z',
      hostname: 'dit-cart.local',
      tool: { name: 'OffloadPro', version: '3.1.4' },
      authors: [{ name: 'Dana DIT', email: 'dit@example.com', role: 'DIT', phone: undefined }],
      location: 'Stage 4',
      comment: 'Day 1, A camera',
    });
    expect(doc.process.process).toBe('transfer');
    expect(doc.process.ignorePatterns).toEqual(['.DS_Store', 'ascmhl', 'ascmhl/', '*.tmp']);
    expect(history.ignorePatterns).toContain('*.tmp');
    expect(requiredFormats(history)).toEqual(['md5', 'xxh64']);
    expect(history.files.get('Clips/A001C001_230101_R1AB.mov')).toMatchObject({
      size: 9,
      hashes: {
        xxh64: { value: 'e54f68576de09468', action: 'original', sequenceNumber: 1 },
        md5: { value: '783770f94bf8c88960d48d5057b2b164' },
      },
    });

    // The other tool's directory hashes agree with ours for the same files.
    const ours = computeDirectoryHashes(
      doc.files.map((f) => ({ path: f.path, hashes: Object.fromEntries(f.hashes.map((h) => [h.format, h.value])) })),
      ['md5', 'xxh64'],
    );
    const clips = doc.directories.find((d) => d.path === 'Clips');
    expect(clips?.content.map((h) => h.value)).toEqual([
      ours.directories.get('Clips')?.md5?.content,
      ours.directories.get('Clips')?.xxh64?.content,
    ]);
    expect(doc.process.rootHash?.structure.map((h) => h.value)).toEqual([ours.root.md5?.structure, ours.root.xxh64?.structure]);
  });

  it('verifies the card against it, with the formats the other tool used', async () => {
    const history = await readCardHistory(card);
    const xxh = await scanCard(card, ['xxh64']);
    const check = verifyAgainstHistory(history, xxh.files);
    expect(check.ok).toBe(true);
    expect(check.files.every((f) => f.formats.join() === 'xxh64')).toBe(true);
    const sha1Only = await scanCard(card, ['sha1']);
    expect(verifyAgainstHistory(history, sha1Only.files).counts['not-comparable']).toBe(3);
  });

  it("continues it: StudioVault writes generation 2, the other tool's generation and chain entry stay as they were", async () => {
    await writeFile(join(card, 'render.tmp'), "ignored by the history's own patterns");
    await writeFile(join(card, 'Clips/A001C003_230101_R1AB.mov'), 'clip three\n');
    const scan = await scanCard(card, ['md5', 'xxh64']);
    const { check, written } = await sealCardFolder(card, {
      ...scan,
      creator: { toolVersion: '0.1.0', hostname: 'nas-01', creationDate: new Date('2026-09-12T15:00:00Z') },
    });
    expect(check.counts).toMatchObject({ matched: 3, new: 1, mismatched: 0, missing: 0 });
    expect(check.ignored).toEqual(['render.tmp']);
    expect(written.fileName).toBe('0002_A001R1AB_2026-09-12_150000Z.mhl');
    assertValidAgainstXsd(GENERATION_XSD, written.generationPath);
    assertValidAgainstXsd(CHAIN_XSD, written.chainPath);

    expect(await readFile(join(card, 'ascmhl', FOREIGN_GENERATION_NAME), 'utf8')).toBe(FOREIGN_GENERATION);
    const chain = parseChainXml(await readFile(written.chainPath));
    expect(chain).toEqual([
      { sequenceNumber: 1, path: FOREIGN_GENERATION_NAME, c4: FOREIGN_GENERATION_C4 },
      { sequenceNumber: 2, path: written.fileName, c4: written.c4 },
    ]);

    const doc = parseGenerationXml(written.bytes);
    expect(doc.process.ignorePatterns).toEqual(['.DS_Store', 'ascmhl', 'ascmhl/', '*.tmp']); // the history's patterns carry on
    const actions = Object.fromEntries(doc.files.map((f) => [f.path, f.hashes.map((h) => `${h.format}:${h.action}`).join(' ')]));
    expect(actions).toEqual({
      'A001.xml': 'md5:verified xxh64:verified',
      'Clips/A001C001_230101_R1AB.mov': 'md5:verified xxh64:verified',
      'Clips/A001C002_230101_R1AB.mov': 'md5:verified xxh64:verified',
      'Clips/A001C003_230101_R1AB.mov': 'md5:original xxh64:original',
    });

    const history = await readCardHistory(card);
    expect(history.intact).toBe(true);
    expect(history.generations.map((g) => [g.sequenceNumber, g.document.creator.tool.name])).toEqual([
      [1, 'OffloadPro'],
      [2, 'StudioVault'],
    ]);
    expect(history.files.get('A001.xml')).toMatchObject({
      firstSequenceNumber: 1,
      lastSequenceNumber: 2,
      hashes: { xxh64: { action: 'verified', sequenceNumber: 2 } },
    });
  });

  it('reads what other tools really write, leniently but safely', () => {
    // Formats out of XSD order (the reference tool itself writes xxh64 before md5), an unknown
    // format, no namespace on the chain, a chain entry without sequencenr, a renamed file.
    const gen = `<?xml version="1.0" encoding="UTF-8"?>
<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0">
  <creatorinfo><creationdate>2020-01-16T09:15:00+00:00</creationdate><hostname>h</hostname><tool version="1">other</tool></creatorinfo>
  <processinfo><process>in-place</process></processinfo>
  <hashes>
    <hash>
      <path size="4">new/name.mov</path>
      <xxh64 action="verified">0EA03B369A463D9D</xxh64>
      <md5 action="verified">f5ac8127b3b6b85cdc13f237c6005d80</md5>
      <sha256>e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855</sha256>
      <previousPath>old/name.mov</previousPath>
    </hash>
  </hashes>
</hashlist>
`;
    const first = `<?xml version="1.0" encoding="UTF-8"?>
<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0">
  <creatorinfo><creationdate>2020-01-15T09:15:00+00:00</creationdate><hostname>h</hostname><tool>other</tool></creatorinfo>
  <processinfo><process>in-place</process></processinfo>
  <hashes><hash><path size="4">old/name.mov</path><xxh64 action="original">0ea03b369a463d9d</xxh64></hash></hashes>
</hashlist>
`;
    const doc = parseGenerationXml(gen);
    expect(doc.files[0].hashes.map((h) => [h.format, h.value])).toEqual([
      ['xxh64', '0ea03b369a463d9d'],
      ['md5', 'f5ac8127b3b6b85cdc13f237c6005d80'],
    ]);
    expect(doc.warnings.join('\n')).toMatch(/sha256.*ignored/);
    expect(doc.warnings.join('\n')).toMatch(/not in the XSD's order/);

    const chain = `<ascmhldirectory>
  <hashlist><path>0001_x.mhl</path><c4>${c4IdOf(first)}</c4></hashlist>
  <hashlist sequencenr="2"><path>0002_x.mhl</path><c4>${c4IdOf(gen)}</c4></hashlist>
</ascmhldirectory>`;
    const history = assembleHistory(Buffer.from(chain), [
      { fileName: '0001_x.mhl', bytes: Buffer.from(first) },
      { fileName: '0002_x.mhl', bytes: Buffer.from(gen) },
    ]);
    expect(history.intact).toBe(true);
    expect([...history.files.keys()]).toEqual(['new/name.mov']);
    expect(history.files.get('new/name.mov')).toMatchObject({
      previousPaths: ['old/name.mov'],
      firstSequenceNumber: 1,
      lastSequenceNumber: 2,
    });
  });

  it('keeps the last good size and hash when a later generation records a failure', () => {
    const gen = (action: string, size: number, hash: string) =>
      `<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"><creatorinfo/><processinfo><process>transfer</process></processinfo><hashes><hash><path size="${size}">a.mov</path><xxh64 action="${action}">${hash}</xxh64></hash></hashes></hashlist>`;
    const g1 = gen('original', 4, '0ea03b369a463d9d');
    const g2 = gen('failed', 3, '1111111111111111');
    const chain = `<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0"><hashlist sequencenr="1"><path>0001_a.mhl</path><c4>${c4IdOf(g1)}</c4></hashlist><hashlist sequencenr="2"><path>0002_a.mhl</path><c4>${c4IdOf(g2)}</c4></hashlist></ascmhldirectory>`;
    const history = assembleHistory(Buffer.from(chain), [
      { fileName: '0001_a.mhl', bytes: Buffer.from(g1) },
      { fileName: '0002_a.mhl', bytes: Buffer.from(g2) },
    ]);
    expect(history.files.get('a.mov')).toMatchObject({
      size: 4,
      hashes: { xxh64: { value: '0ea03b369a463d9d', sequenceNumber: 1 } },
      lastSequenceNumber: 2,
    });
    expect(history.files.get('a.mov')?.failures).toEqual([
      { format: 'xxh64', value: '1111111111111111', action: 'failed', hashDate: undefined, sequenceNumber: 2 },
    ]);
    const restored = verifyAgainstHistory(history, [{ path: 'a.mov', size: 4, hashes: { xxh64: '0ea03b369a463d9d' } }]);
    expect(restored.ok).toBe(true);
    const truncated = verifyAgainstHistory(history, [{ path: 'a.mov', size: 3, hashes: { xxh64: '0ea03b369a463d9d' } }]);
    expect(truncated.files[0]).toMatchObject({ status: 'mismatched', size: { expected: 4, actual: 3 } });
  });

  it.each([
    ['a path escaping the card', '<path>../../etc/passwd</path><xxh64>0ea03b369a463d9d</xxh64>', /must not contain "\.\."/],
    ['a malformed hash', '<path>a</path><xxh64>0ea03b369a463d9</xxh64>', /16 hex digits/],
    ['two values of one format', '<path>a</path><xxh64>0ea03b369a463d9d</xxh64><xxh64>0ea03b369a463d9d</xxh64>', /two xxh64/],
    ['an unknown action', '<path>a</path><xxh64 action="guessed">0ea03b369a463d9d</xxh64>', /unknown action/],
    ['a negative size', '<path size="-1">a</path><xxh64>0ea03b369a463d9d</xxh64>', /not a whole number/],
  ])('refuses a generation with %s (it would be reported unreadable, its hashes unused)', (_what, hash, message) => {
    const xml = `<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"><creatorinfo/><processinfo><process>in-place</process></processinfo><hashes><hash>${hash}</hash></hashes></hashlist>`;
    expect(() => parseGenerationXml(xml)).toThrow(message);
    const history = assembleHistory(undefined, [{ fileName: '0001_a.mhl', bytes: Buffer.from(xml) }]);
    expect(history.issues.map((i) => i.kind)).toEqual(['missing-chain', 'unchained-generation', 'unreadable-generation']);
    expect(history.files.size).toBe(0);
  });

  it('refuses other versions and other documents', () => {
    expect(() => parseGenerationXml('<hashlist version="1.1"/>')).toThrow(/not ASC MHL 2.0/);
    expect(() => parseGenerationXml('<hashlist version="2.0" xmlns="urn:other"/>')).toThrow(/namespace/);
    expect(() => parseGenerationXml('<ascmhldirectory/>')).toThrow(/not <hashlist>/);
    expect(() =>
      parseChainXml('<ascmhldirectory><hashlist sequencenr="1"><path>a.mhl</path><c4>c4x</c4></hashlist></ascmhldirectory>'),
    ).toThrow(/c4/);
  });
});
