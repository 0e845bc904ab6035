// The quickstart's reference receiver: Node's http module and the svix package's Webhook.verify.
// Answers 200 "ok" or 401 "invalid signature", like hookscope. Bench-only.
const http = require("http");
const { Webhook } = require("svix");

const port = Number(process.argv[2] || 9002);
const wh = new Webhook(process.env.PIVOTAL_WEBHOOK_SECRET);

http
  .createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        const evt = wh.verify(body, req.headers);
        if (process.env.PRINT) console.log(`${evt.type} · ${evt.id}`);
        res.writeHead(200);
        res.end("ok");
      } catch (e) {
        res.writeHead(401);
        res.end("invalid signature");
      }
    });
  })
  .listen(port, "127.0.0.1", () => console.error(`listening on http://127.0.0.1:${port}`));
