// The web app builds to web/dist: the local gateway serves it at `/`, and in AWS it is
// copied to the web bucket behind CloudFront (infra/deploy_web.sh).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
  server: {
    // `npm run dev` with hot reload: the API and config come from the gateway of `make dev`.
    proxy: Object.fromEntries(
      ["/inbox", "/conversations", "/attachments", "/patients", "/staff", "/workgroups", "/portal", "/settings", "/me", "/drafts", "/_local", "/config.json"].map(
        (p) => [p, process.env.CARETHREAD_API ?? "http://127.0.0.1:3000"],
      ),
    ),
  },
});
