-- Client authentication becomes enforced per app (issue 13). It never was before: every app
-- accepted client_secret_basic and client_secret_post whatever this column said, so the stored
-- value says nothing about what a site really sends. Existing apps become "not yet pinned"
-- (NULL): each is pinned to the method it first uses successfully after the upgrade (audited
-- as app.auth_method_pinned). New apps keep the default, client_secret_basic.
ALTER TABLE "App" ALTER COLUMN "tokenEndpointAuthMethod" DROP NOT NULL;
UPDATE "App" SET "tokenEndpointAuthMethod" = NULL;

-- The ID token signing algorithm per app. No app ever registered one (ES256 was forced on all),
-- so every app gets what OpenID Connect gives a client that registers none: RS256. A site that
-- pinned ES256 in its own client configuration sets it back (apps:update --id-token-alg ES256).
ALTER TABLE "App" ADD COLUMN "idTokenSignedResponseAlg" TEXT NOT NULL DEFAULT 'RS256';
