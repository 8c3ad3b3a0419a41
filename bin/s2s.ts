#!/usr/bin/env node
import { main } from './cli/main';

// AWS SDK v3 warns on stderr about Node versions it will stop supporting; the CLI output is for the user's request only.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
