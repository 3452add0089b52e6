-- Issue 11 (trust): schema changes as Prisma generated them, plus the data they need.

-- AlterTable
ALTER TABLE "AdminAccount" ADD COLUMN     "passwordChangedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "AdminToken" ADD COLUMN     "expiresAt" TIMESTAMP(3),
ADD COLUMN     "ownerId" TEXT;

-- AlterTable: apps registered before PKCE could be required keep working without it, new apps require it.
ALTER TABLE "App" ADD COLUMN     "requirePkce" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "App" ALTER COLUMN "requirePkce" SET DEFAULT true;

-- CreateIndex
CREATE INDEX "AdminToken_ownerId_idx" ON "AdminToken"("ownerId");

-- AddForeignKey
ALTER TABLE "AdminToken" ADD CONSTRAINT "AdminToken_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "AdminAccount"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing admin tokens act for the admin who made them ("admin:<username>"), or for the owner
-- of the token that made them ("token:<name>", resolved through the first pass).
UPDATE "AdminToken" t SET "ownerId" = a."id"
  FROM "AdminAccount" a WHERE t."createdBy" = 'admin:' || a."username";
UPDATE "AdminToken" t SET "ownerId" = p."ownerId"
  FROM "AdminToken" p WHERE t."ownerId" IS NULL AND t."createdBy" = 'token:' || p."name" AND p."ownerId" IS NOT NULL;

-- Refresh tokens are bearer secrets: their rows are keyed by the token's SHA-256 (base64url, as
-- oidc/payloads.ts computes it) and keep no copy of the value.
UPDATE "OidcPayload"
  SET "id" = 'RefreshToken:' || rtrim(translate(encode(sha256(convert_to(substr("id", 14), 'UTF8')), 'base64'), '+/', '-_'), '='),
      "payload" = "payload" - 'jti'
  WHERE "kind" = 'RefreshToken' AND "id" LIKE 'RefreshToken:%';
