-- Where RP-initiated logout may send the browser back, per app (Prisma's diff).

-- AlterTable
ALTER TABLE "App" ADD COLUMN     "postLogoutRedirectUris" TEXT[] DEFAULT ARRAY[]::TEXT[];
