from django.urls import path

from . import case_views, views

app_name = "tumorboards"
urlpatterns = [
    path("", views.boards_home, name="home"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("series/new/", views.series_new, name="series_new"),
    path("series/<int:pk>/", views.series_detail, name="series"),
    path("series/<int:pk>/edit/", views.series_edit, name="series_edit"),
    path("series/<int:pk>/meetings/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/state/", views.meeting_state, name="meeting_state"),
    path("meetings/<int:pk>/attendance/", views.meeting_attendance, name="meeting_attendance"),
    path("meetings/<int:pk>/join/", views.meeting_join, name="meeting_join"),
    path("meetings/<int:pk>/invite/", views.meeting_invite, name="meeting_invite"),
    path("meetings/<int:pk>/agenda/", views.meeting_agenda, name="meeting_agenda"),
    path("meetings/<int:pk>/present/", views.present, name="present"),
    path("meetings/<int:pk>/present/current/", views.present_current, name="present_current"),
    path("meetings/<int:pk>/present/goto/", views.present_goto, name="present_goto"),
    path("meetings/<int:pk>/minutes/", views.meeting_minutes, name="minutes"),
    path("patients/<int:patient_id>/submit/", case_views.case_submit, name="submit"),
    path("cases/<int:pk>/", case_views.case_detail, name="case"),
    path("cases/<int:pk>/print/", case_views.case_print, name="case_print"),
    path("cases/<int:pk>/decide/", case_views.case_decide, name="case_decide"),
    path("cases/<int:pk>/refresh/", case_views.case_refresh, name="case_refresh"),
    path("cases/<int:pk>/discussion/", case_views.case_discussion, name="case_discussion"),
    path("cases/<int:pk>/recommendations/", case_views.case_recommendation, name="case_recommendation"),
    path("cases/<int:pk>/summary/", case_views.case_summary, name="case_summary"),
    path("cases/<int:pk>/addenda/", case_views.case_addendum, name="case_addendum"),
    path("cases/<int:pk>/concordance/", case_views.case_concordance, name="case_concordance"),
]
