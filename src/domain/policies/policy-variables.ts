/**
 * What a device connection tells the policy engine about itself: the values of the policy
 * variables and condition keys devices use (device-security.md §5.3). The MQTT door fills it in at
 * CONNECT; the certificate part comes with the certificates of issue 11 item 2.
 */
export interface ConnectionFacts {
  /** Absent on HTTPS, which has no client id: `${iot:ClientId}` is then unresolvable and voids its statement. */
  clientId?: string;
  /** The thing the connection acts for (`iot:Connection.Thing.*`), when there is one. */
  thing?: ConnectionThing;
  certificate?: CertificateFacts;
  sourceIp?: string;
}

export interface ConnectionThing {
  name: string;
  typeName?: string;
  attributes: Record<string, string>;
  /** `iot:Connection.Thing.IsAttached`: the thing is attached to the connection's principal. */
  attached: boolean;
}

/** A certificate's names as `iot:Certificate.*` reads them; each attribute's values in certificate order. */
export interface CertificateFacts {
  id: string;
  subject?: Record<string, string[]>;
  issuer?: Record<string, string[]>;
  subjectAlternativeName?: Record<string, string[]>;
  serialNumber?: string;
}

const ATTRIBUTE = /^iot:Connection\.Thing\.Attributes\[(.+)\]$/;
const NAME_PART = /^iot:Certificate\.(Subject|Issuer|SubjectAlternativeName)\.([A-Za-z]+)(?:\.(\d+|List))?$/;

/** The value of a policy variable or condition key; undefined when it cannot be resolved. */
export function resolveVariable(name: string, facts: ConnectionFacts): string | undefined {
  switch (name) {
    case 'iot:ClientId':
      return facts.clientId;
    case 'iot:Connection.Thing.ThingName':
      return facts.thing?.name;
    case 'iot:Connection.Thing.ThingTypeName':
      return facts.thing?.typeName;
    case 'iot:Connection.Thing.IsAttached':
      return facts.thing?.attached ? 'true' : 'false';
    case 'iot:Certificate.SerialNumber':
      return facts.certificate?.serialNumber;
    case 'aws:SourceIp':
      return facts.sourceIp;
  }
  const attribute = ATTRIBUTE.exec(name);
  if (attribute) return facts.thing ? own(facts.thing.attributes, attribute[1]) : undefined;
  const part = NAME_PART.exec(name);
  if (part && facts.certificate) {
    const names = part[1] === 'Subject' ? facts.certificate.subject : part[1] === 'Issuer' ? facts.certificate.issuer : facts.certificate.subjectAlternativeName;
    const values = names ? own(names, part[2]) : undefined;
    if (!values) return undefined;
    // `.List` is multi-valued; a single-valued policy variable cannot take it.
    if (part[3] === 'List') return undefined;
    return values[part[3] === undefined ? 0 : Number(part[3])];
  }
  return undefined;
}

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}
