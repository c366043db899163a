import { XmlBuilder, escapeXmlAttribute, escapeXmlText, parseXml } from './xml';

describe('XML writer and parser', () => {
  it('round-trips text and attributes with every character that needs escaping', () => {
    const tricky = `a&b<c>d"e'f\tg\nh\ri ]]> é 🎬 \u00a0`;
    const xml = new XmlBuilder()
      .start('r', [['xmlns', 'urn:x']])
      .element('t', tricky, [
        ['a', tricky],
        ['skip', undefined],
      ])
      .end('r')
      .toString();
    expect(xml).not.toContain('skip=');
    const root = parseXml(Buffer.from(xml));
    expect(root.namespace).toBe('urn:x');
    expect(root.children[0].text).toBe(tricky);
    expect(root.children[0].attributes.a).toBe(tricky);
  });

  it('escapes the five characters and the whitespace that XML would otherwise normalize', () => {
    expect(escapeXmlText('<&>\r')).toBe('&lt;&amp;&gt;&#13;');
    expect(escapeXmlAttribute('"\t\n')).toBe('&quot;&#9;&#10;');
  });

  it('refuses characters XML cannot hold', () => {
    expect(() => new XmlBuilder().start('r').element('t', 'bell\u0007').end('r').toString()).toThrow(/U\+0007/);
    expect(() => new XmlBuilder().start('r').element('t', 'x\ud800y').end('r').toString()).toThrow(/U\+D800/);
  });

  it('reads namespaces, prefixes, CDATA, comments, PIs, character references and a BOM', () => {
    const doc = `\ufeff<?xml version="1.0" encoding="utf-8"?>
<!-- before -->
<?pi stuff?>
<m:root xmlns:m="urn:m" xmlns="urn:d">
  <child a='1' b="x &amp; y &#x41;&#66;">t<![CDATA[<raw & text>]]><!-- c -->u</child>
  <m:other/>
  <plain xmlns="">p</plain>
</m:root>
<!-- after -->
`;
    const root = parseXml(doc);
    expect(root.name).toBe('root');
    expect(root.namespace).toBe('urn:m');
    const [child, other, plain] = root.children;
    expect(child.namespace).toBe('urn:d');
    expect(child.attributes).toEqual({ a: '1', b: 'x & y AB' });
    expect(child.text).toBe('t<raw & text>u');
    expect(other.namespace).toBe('urn:m');
    expect(plain.namespace).toBeNull();
    expect(child.line).toBe(5);
  });

  it('normalizes line ends and attribute whitespace as XML requires', () => {
    const root = parseXml('<r a="x\ty\r\nz">l1\r\nl2\rl3</r>');
    expect(root.attributes.a).toBe('x y z');
    expect(root.text).toBe('l1\nl2\nl3');
  });

  it.each([
    ['a DOCTYPE (no entity expansion)', '<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>', /DOCTYPE/],
    ['an unknown entity', '<r>&e;</r>', /unknown entity/],
    ['a bare ampersand', '<r>a & b</r>', /&amp;/],
    ['a mismatched end tag', '<r><a></b></r>', /does not close/],
    ['an unclosed element', '<r><a>', /not closed/],
    ['content after the root', '<r/><s/>', /after the root/],
    ['text after the root', '<r/>x', /after the root/],
    ['an undeclared prefix', '<p:r/>', /not declared/],
    ['a duplicate attribute', '<r a="1" a="2"/>', /twice/],
    ['an unquoted attribute', '<r a=1/>', /quoted/],
    ['"<" in an attribute', '<r a="<"/>', /"<"/],
    ['a control character', '<r>\u0001</r>', /U\+0001/],
    ['a character reference to a control character', '<r>&#1;</r>', /not an XML character/],
    ['another encoding', '<?xml version="1.0" encoding="ISO-8859-1"?><r/>', /not supported/],
    ['nothing', '', /root element/],
  ])('refuses %s', (_what, doc, message) => {
    expect(() => parseXml(doc)).toThrow(message);
  });

  it('refuses bytes that are not UTF-8, and excessive nesting', () => {
    expect(() => parseXml(Buffer.from([0x3c, 0x72, 0x3e, 0xff, 0x3c, 0x2f, 0x72, 0x3e]))).toThrow(/UTF-8/);
    expect(() => parseXml('<a>'.repeat(300) + '</a>'.repeat(300))).toThrow(/nested deeper/);
  });
});
