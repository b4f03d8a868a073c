/**
 * The AWS managed job templates (jobs.md §7.5): a fixed catalogue, the same in every account.
 * Names, descriptions, parameters (key, description, regex, example, optional) and documents follow
 * the Developer Guide ("Managed template remote actions and job documents") and its
 * DescribeManagedJobTemplate example for AWS-Download-File.
 *
 * Inferred where the documentation is silent: the regexes and examples of `packages`, `services`
 * and `command` (the guide shows only AWS-Download-File's), the descriptions of
 * AWS-Install-Application, AWS-Start-Application and AWS-Run-Command, and all of AWS-Config-Update,
 * whose parameters and handler could not be found in any available source: it is modelled on the
 * other runHandler templates (a `update-config.sh` handler given the file path and its new
 * contents). `pathToHandler` is offered by every template, as the guide's common-parameter text
 * says (its AWS-Run-Command entry names only `runAsUser`; the document simply does not use it).
 */

export interface DocumentParameter {
  key: string;
  description: string;
  regex: string;
  example: string;
  optional: boolean;
}

export interface ManagedJobTemplate {
  templateName: string;
  templateVersion: string;
  description: string;
  environments: string[];
  documentParameters: DocumentParameter[];
  document: string;
}

const RUN_AS_USER: DocumentParameter = {
  key: 'runAsUser',
  description: 'Execute handler as another user. If not specified, then handler is executed as the same user as device client.',
  regex: '(.){0,256}',
  example: 'user1',
  optional: true,
};

const PATH_TO_HANDLER: DocumentParameter = {
  key: 'pathToHandler',
  description: 'Path to handler on the device. If not specified, then device client will use the current working directory.',
  regex: '(.){0,4096}',
  example: '/path/to/handler/script',
  optional: true,
};

const required = (key: string, description: string, example: string, regex = '(.*?)'): DocumentParameter => ({ key, description, regex, example, optional: false });
const param = (key: string) => `\${aws:iot:parameter:${key}}`;

/** A one-step runHandler document in AWS's shape (compact JSON, AWS's member order). */
function runHandler(name: string, handler: string, args: string[]): string {
  return JSON.stringify({
    version: '1.0',
    steps: [
      {
        action: {
          name,
          type: 'runHandler',
          input: { handler, ...(args.length > 0 ? { args: args.map(param) } : {}), path: param('pathToHandler') },
          runAsUser: param('runAsUser'),
        },
      },
    ],
  });
}

function template(templateName: string, description: string, parameters: DocumentParameter[], document: string): ManagedJobTemplate {
  return {
    templateName,
    templateVersion: '1.0',
    description,
    environments: ['LINUX'],
    documentParameters: [...parameters, RUN_AS_USER, PATH_TO_HANDLER],
    document,
  };
}

const packages = (verb: string) => required('packages', `Space separated list of packages to ${verb}.`, 'package1 package2');
const services = (verb: string) => required('services', `Space separated list of services to ${verb}.`, 'service1 service2');

export const MANAGED_JOB_TEMPLATES: readonly ManagedJobTemplate[] = [
  template(
    'AWS-Config-Update',
    'A managed job template for updating a configuration file on the device.',
    [
      required('configFilePath', 'Path on the device of the configuration file to write.', '/etc/myapp/config.json', '(.){1,4096}'),
      required('configFileContents', 'New contents of the configuration file.', '{"logLevel":"INFO"}', '[\\s\\S]{1,30720}'),
    ],
    runHandler('Config-Update', 'update-config.sh', ['configFilePath', 'configFileContents']),
  ),
  template(
    'AWS-Download-File',
    'A managed job template for downloading a file.',
    [
      required('downloadUrl', 'URL of file to download.', 'http://www.example.com/index.html'),
      required('filePath', 'Path on the device where downloaded file is written.', '/path/to/file'),
    ],
    runHandler('Download-File', 'download-file.sh', ['downloadUrl', 'filePath']),
  ),
  template(
    'AWS-Install-Application',
    'A managed job template for installing one or more applications.',
    [packages('install')],
    runHandler('Install-Application', 'install-packages.sh', ['packages']),
  ),
  template('AWS-Reboot', 'A managed job template for rebooting the device.', [], runHandler('Reboot', 'reboot.sh', [])),
  template(
    'AWS-Remove-Application',
    'A managed job template for uninstalling one or more applications.',
    [packages('uninstall')],
    runHandler('Remove-Application', 'remove-packages.sh', ['packages']),
  ),
  template(
    'AWS-Restart-Application',
    'A managed job template for restarting one or more system services.',
    [services('restart')],
    runHandler('Restart-Application', 'restart-services.sh', ['services']),
  ),
  template(
    'AWS-Run-Command',
    'A managed job template for running a shell command.',
    [required('command', 'A comma separated string of command. Any comma contained in the command itself must be escaped.', 'ls,-l,/tmp')],
    JSON.stringify({
      version: '1.0',
      steps: [{ action: { name: 'Run-Command', type: 'runCommand', input: { command: param('command') }, runAsUser: param('runAsUser') } }],
    }),
  ),
  template(
    'AWS-Start-Application',
    'A managed job template for starting one or more system services.',
    [services('start')],
    runHandler('Start-Application', 'start-services.sh', ['services']),
  ),
  template(
    'AWS-Stop-Application',
    'A managed job template for stopping one or more system services.',
    [services('stop')],
    runHandler('Stop-Application', 'stop-services.sh', ['services']),
  ),
];

/** Without a version, the newest one (all are 1.0 today). */
export function findManagedTemplate(name: string, version?: string): ManagedJobTemplate | undefined {
  const matches = MANAGED_JOB_TEMPLATES.filter((t) => t.templateName === name && (version === undefined || t.templateVersion === version));
  return matches.sort((a, b) => compareVersions(b.templateVersion, a.templateVersion))[0];
}

function compareVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

export function managedTemplateArn(partition: string, region: string, t: Pick<ManagedJobTemplate, 'templateName' | 'templateVersion'>): string {
  return `arn:${partition}:iot:${region}::jobtemplate/${t.templateName}:${t.templateVersion}`;
}

/** Full-match regexes of the parameters, compiled once. */
const compiled = new Map<string, RegExp>();
export function parameterPattern(p: DocumentParameter): RegExp {
  let re = compiled.get(p.regex);
  if (!re) {
    re = new RegExp(`^(?:${p.regex})$`);
    compiled.set(p.regex, re);
  }
  return re;
}
