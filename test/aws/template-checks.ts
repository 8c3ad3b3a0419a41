/**
 * Generic least-privilege check over a synthesized template: every wildcard in an action,
 * resource or principal of any policy statement (identity policies, trust policies, inline role
 * policies) or Lambda permission, reported with where it is.
 */
export function wildcardFindings(template: Record<string, unknown>): string[] {
  const findings: string[] = [];
  const resources = (template.Resources ?? {}) as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::Lambda::Permission') {
      for (const key of ['Action', 'Principal']) {
        if (literals(resource.Properties?.[key]).some((s) => s.includes('*'))) findings.push(`${id}.${key}`);
      }
    }
    visitStatements(resource.Properties, (statement, where) => {
      for (const key of ['Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal']) {
        if (literals(statement[key]).some((s) => s.includes('*'))) findings.push(`${id}${where}.${key}`);
      }
    });
  }
  return findings;
}

function visitStatements(node: unknown, visit: (statement: Record<string, unknown>, where: string) => void, where = ''): void {
  if (Array.isArray(node)) {
    node.forEach((child, i) => visitStatements(child, visit, `${where}[${i}]`));
  } else if (node && typeof node === 'object') {
    for (const [key, child] of Object.entries(node)) {
      if (key === 'Statement') {
        (Array.isArray(child) ? child : [child]).forEach((statement, i) => visit(statement as Record<string, unknown>, `${where}.Statement[${i}]`));
      } else {
        visitStatements(child, visit, `${where}.${key}`);
      }
    }
  }
}

// Every literal string in a value, including the literal parts of Fn::Join and Fn::Sub.
function literals(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(literals);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) => (key === 'Ref' || key === 'Fn::GetAtt' ? [] : literals(child)));
  }
  return [];
}
