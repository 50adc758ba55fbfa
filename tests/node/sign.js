// Signs like Bloq.It: jwt.sign(`${timestamp}.${body}`, secret). Reads JSON from stdin:
// {"text": "<timestamp>.<body>", "secret": "...", "algorithm": "HS256"}; prints the token.
const jwt = require('jsonwebtoken');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { text, secret, algorithm } = JSON.parse(input);
  process.stdout.write(jwt.sign(text, secret, { algorithm: algorithm || 'HS256' }));
});
