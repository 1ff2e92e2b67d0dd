// The 128-bit integer decimals are held in (a GCC/Clang extension type), shared by the text forms
// (util/text.h) and the column builders (columnar/column_batch.h).
#pragma once

namespace lakeflow {

// Decimal values: 128-bit two's complement.
__extension__ typedef __int128 Int128;

}  // namespace lakeflow
