-- Client authentication becomes enforced per app (issue 13). It never was before: every app
-- accepted client_secret_basic and client_secret_post whatever this column said, so the stored
-- value says nothing about what a site really sends. Existing apps become "not yet pinned"
-- (NULL): each is pinned to the method it first uses successfully after the upgrade (audited
-- as app.auth_method_pinned). New apps keep the default, client_secret_basic.
ALTER TABLE "App" ALTER COLUMN "tokenEndpointAuthMethod" DROP NOT NULL;
UPDATE "App" SET "tokenEndpointAuthMethod" = NULL;

-- The ID token signing algorithm per app. Existing apps keep ES256, what they were signed with
-- so far (a site may have configured its client for it). New apps get RS256, the OpenID
-- Connect default for a client that registers none.
ALTER TABLE "App" ADD COLUMN "idTokenSignedResponseAlg" TEXT NOT NULL DEFAULT 'ES256';
ALTER TABLE "App" ALTER COLUMN "idTokenSignedResponseAlg" SET DEFAULT 'RS256';
