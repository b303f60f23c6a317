"""Page-number pagination with a bounded, client-chosen page size."""

from rest_framework.pagination import LimitOffsetPagination, PageNumberPagination
from rest_framework.request import Request

from cdss.common.serializers import MAX_DB_INT


class StandardPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset paging whose offset never overflows the database's 64-bit integers."""

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_DB_INT - (self.max_limit or 0))
