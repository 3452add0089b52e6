-- Issue 15 (key rotation): the keys oidc-provider signs with, in the database so every instance
-- sees a rotation. Existing deployments import their JWKS and cookie keys on first start.

-- CreateTable
CREATE TABLE "ProviderKey" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "alg" TEXT,
    "publicJwk" JSONB,
    "material" TEXT NOT NULL,
    "publishAt" TIMESTAMP(3) NOT NULL,
    "activeAt" TIMESTAMP(3) NOT NULL,
    "retireAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProviderKey_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ProviderKey_kind_idx" ON "ProviderKey"("kind");
