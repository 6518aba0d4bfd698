// A real OpenID Connect provider (the certified oidc-provider package) for Zhiku's tests.
// Usage: node oidc_server.mjs CONFIG.json; the config names the port, the clients and the
// accounts (login -> claims). Its development interactions accept a login form post: the
// account is the login typed, and its claims come from the config.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const issuer = `http://127.0.0.1:${config.port}`;
const accounts = config.accounts;

const provider = new Provider(issuer, {
  clients: config.clients,
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name"],
    groups: ["groups"],
  },
  scopes: ["openid", "email", "profile", "groups", "offline_access"],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["zhiku-test-cookie-key"] },
  async findAccount(ctx, id) {
    const claims = accounts[id] ?? { email: `${id}@example.org`, email_verified: true, groups: [] };
    return {
      accountId: id,
      async claims() { return { sub: id, ...claims }; },
    };
  },
});
provider.listen(config.port, "127.0.0.1", () => {
  console.log(`listening ${issuer}`);
});
