#include <gtest/gtest.h>

#include "lakeflow/http/client.h"

namespace lakeflow::http {
namespace {

// Rejected credentials (401) and missing permissions (403) must be changed before a rerun can
// succeed, as a bad option must (exit status 2); other failures are the source's (3).
TEST(HttpError, RejectedCredentialsAndDeniedPermissionsAreAccessErrors) {
  EXPECT_EQ(HttpError("", 401, "", 1).code(), ErrorCode::kAccess);
  EXPECT_EQ(HttpError("", 403, "", 1).code(), ErrorCode::kAccess);
  EXPECT_EQ(exit_status(HttpError("", 401, "", 1).code()), 2);
  for (const int status : {0, 400, 404, 429, 500, 503}) {
    EXPECT_EQ(HttpError("", status, "", 5).code(), ErrorCode::kSource) << status;
  }
}

}  // namespace
}  // namespace lakeflow::http
