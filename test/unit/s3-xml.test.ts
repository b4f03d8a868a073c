import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { child, children, el, parseXml, XmlError } from '../../src/protocol/s3/xml.js';

describe('S3 request XML', () => {
  it('reads the bodies clients send: declaration, namespace, nested elements, entities, CDATA', () => {
    const doc = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part>' +
        '<!-- a comment --><Part><PartNumber>2</PartNumber><ETag><![CDATA["d<e>f"]]></ETag></Part></CompleteMultipartUpload>',
    );
    assert.equal(doc.name, 'CompleteMultipartUpload');
    const parts = children(doc, 'Part').map((p) => [child(p, 'PartNumber')?.text, child(p, 'ETag')?.text]);
    assert.deepEqual(parts, [['1', '"abc"'], ['2', '"d<e>f"']]);
    assert.equal(child(parseXml('<a:Delete xmlns:a="x"><a:Quiet>true</a:Quiet><Object/></a:Delete>'), 'Quiet')?.text, 'true');
    assert.equal(parseXml('<K>caf&#233; &#x1F600; &amp; &lt;tag&gt;</K>').text, 'café 😀 & <tag>');
  });

  it('refuses malformed documents', () => {
    for (const bad of ['', '<a>', '<a></b>', '<a>text', 'junk<a/>', '<a/><b/>', '<a>&#x110000;</a>', '<x>'.repeat(40) + '</x>'.repeat(40), '<a><b></a></b>']) {
      assert.throws(() => parseXml(bad), XmlError, JSON.stringify(bad));
    }
  });

  it('escapes what it writes', () => {
    assert.equal(el('Key', 'a<b>&"c\''), '<Key>a&lt;b&gt;&amp;&quot;c&apos;</Key>');
    assert.equal(el('Missing', undefined), '');
    assert.equal(el('IsTruncated', false), '<IsTruncated>false</IsTruncated>');
  });
});
