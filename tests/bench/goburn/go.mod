module linepool/goburn

go 1.19
