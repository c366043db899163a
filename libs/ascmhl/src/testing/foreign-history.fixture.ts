/**
 * A small ASC MHL history as another tool (a DIT offload application) would leave it on a card
 * copy, hand-written from the ASC MHL v2.0 XSD: one generation with xxh64 and md5 hashes,
 * directory and root hashes, authors, ignore patterns, and its chain file.
 */
export const FOREIGN_CARD_FOLDER = 'A001R1AB';

/** The media files the history describes (content as a string). */
export const FOREIGN_MEDIA: Readonly<Record<string, string>> = {
  'Clips/A001C001_230101_R1AB.mov': 'clip one\n',
  'Clips/A001C002_230101_R1AB.mov': 'clip two\n',
  'A001.xml': '<card/>\n',
};

export const FOREIGN_GENERATION_NAME = '0001_A001R1AB_2023-01-01_101500Z.mhl';

export const FOREIGN_GENERATION = `<?xml version="1.0" encoding="UTF-8"?>
<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0">
  <creatorinfo>
    <creationdate>2023-01-01T10:15:00Z</creationdate>
    <hostname>dit-cart.local</hostname>
    <tool version="3.1.4">OffloadPro</tool>
    <author email="dit@example.com" role="DIT">Dana DIT</author>
    <location>Stage 4</location>
    <comment>Day 1, A camera</comment>
  </creatorinfo>
  <processinfo>
    <process>transfer</process>
    <roothash>
      <content>
        <md5 hashdate="2023-01-01T10:15:00Z">8546e8244e6bb352fe7eed6b73df4e35</md5>
        <xxh64 hashdate="2023-01-01T10:15:00Z">1d93930747f24f14</xxh64>
      </content>
      <structure>
        <md5 hashdate="2023-01-01T10:15:00Z">64b343f30fa5591a2af23287ec066168</md5>
        <xxh64 hashdate="2023-01-01T10:15:00Z">0d08ef0f90dfc30a</xxh64>
      </structure>
    </roothash>
    <ignore>
      <pattern>.DS_Store</pattern>
      <pattern>ascmhl</pattern>
      <pattern>ascmhl/</pattern>
      <pattern>*.tmp</pattern>
    </ignore>
  </processinfo>
  <hashes>
    <hash>
      <path size="8" lastmodificationdate="2023-01-01T09:00:00Z">A001.xml</path>
      <md5 action="original" hashdate="2023-01-01T10:14:00Z">87435540c688f03532cb58dc4d6eaacc</md5>
      <xxh64 action="original" hashdate="2023-01-01T10:14:00Z">4b674cf0e4d80f81</xxh64>
    </hash>
    <hash>
      <path size="9" lastmodificationdate="2023-01-01T09:00:00Z">Clips/A001C001_230101_R1AB.mov</path>
      <md5 action="original" hashdate="2023-01-01T10:14:00Z">783770f94bf8c88960d48d5057b2b164</md5>
      <xxh64 action="original" hashdate="2023-01-01T10:14:00Z">e54f68576de09468</xxh64>
    </hash>
    <hash>
      <path size="9" lastmodificationdate="2023-01-01T09:00:00Z">Clips/A001C002_230101_R1AB.mov</path>
      <md5 action="original" hashdate="2023-01-01T10:14:00Z">4d1c1b635c54eebfd058028833e193b4</md5>
      <xxh64 action="original" hashdate="2023-01-01T10:14:00Z">a91f0608f14a392b</xxh64>
    </hash>
    <directoryhash>
      <path lastmodificationdate="2023-01-01T09:00:00Z">Clips</path>
      <content>
        <md5 hashdate="2023-01-01T10:15:00Z">3ac021b5bf2bef0769fbf8ab922888aa</md5>
        <xxh64 hashdate="2023-01-01T10:15:00Z">8d34bd5386ed804a</xxh64>
      </content>
      <structure>
        <md5 hashdate="2023-01-01T10:15:00Z">be696c1ddcc5aa9b2b896837dca4a5f3</md5>
        <xxh64 hashdate="2023-01-01T10:15:00Z">bba40736150290d4</xxh64>
      </structure>
    </directoryhash>
  </hashes>
</hashlist>
`;

/** C4 ID of FOREIGN_GENERATION's UTF-8 bytes, as the other tool recorded it in its chain. */
export const FOREIGN_GENERATION_C4 = 'c41NHqd6vthAkNrq9F3u63YmooMwrKBDhiNBtr5EoRSHoUHjcPnnWgnjwNrZGppkydGRcFCEHboxHv1pEuds3sNS4J';

export const FOREIGN_CHAIN = `<?xml version="1.0" encoding="UTF-8"?>
<ascmhldirectory xmlns="urn:ASC:MHL:DIRECTORY:v2.0">
  <hashlist sequencenr="1">
    <path>${FOREIGN_GENERATION_NAME}</path>
    <c4>${FOREIGN_GENERATION_C4}</c4>
  </hashlist>
</ascmhldirectory>
`;
